# The GenMC litmus programs and the orders each is about, read by scripts/genmc (which runs
# them) and scripts/weaken-orders (which names the orders shown here and not by Relacy).
# program, memory model, and the order it is about: (file, the text just before it, order,
# weakened to), and optionally "holds": the program shows the order is not needed under that
# memory model (it must hold weakened too; weaken-orders does not count it as shown). A CAS whose success order is weakened to one without acquire (relaxed, release)
# has its acquire failure order weakened to relaxed too: a failure order may be no stronger, and
# GenMC reads a failed CAS with its success order's semantics, so it cannot show a failure
# order alone.
CASES = [
    ("slot_release_follows_claim", "rc11",
     [("detail/slot_table.hpp", "SlotWord::make(p.generation, SlotPhase::kReleasing),",
       "acquire", "relaxed")]),
    ("slot_unclaim_precedes_claim", "rc11",
     [("detail/slot_table.hpp", "r.word.store(SlotWord::make(p.generation, SlotPhase::kFree),",
       "release", "relaxed")]),
    # The store-buffering pairs (seq_cst): each side's write and look, weakened to what it is
    # without the single total order.
    ("release_meets_announce", "rc11",
     [("detail/admission.hpp", "Word word_sc() const noexcept { return ctl_.load(",
       "seq_cst", "acquire"),
      ("detail/admission.hpp", "} while (!ctl_.compare_exchange_weak(c, c + CW::kQueuedOne,",
       "seq_cst", "acq_rel"),
      ("detail/slot_table.hpp", "on an old value would be missed by the granter.\n"
       "      uint32_t w = r.word.load(", "seq_cst", "acquire"),
      ("detail/slot_table.hpp", "if (r.word.compare_exchange_strong(expected, "
       "SlotWord::make(p.generation, SlotPhase::kFree),", "seq_cst", "acq_rel")]),
    ("carried_release_meets_announce", "rc11",
     [("detail/slot_table.hpp", "r.word.exchange(SlotWord::with_phase(releasing, SlotPhase::kFree),",
       "seq_cst", "acq_rel")]),
    ("give_back_meets_announce", "rc11",
     [("detail/slot_table.hpp", "r.word.exchange(SlotWord::with_phase(w, SlotPhase::kFree),",
       "seq_cst", "acq_rel")]),
    ("reclaim_meets_announce", "rc11",
     [("detail/slot_table.hpp", "if (r.word.compare_exchange_strong(w, "
       "SlotWord::with_phase(w, SlotPhase::kFree),", "seq_cst", "acq_rel")]),
    ("two_grants_under_shrink", "rc11",
     [("detail/slot_table.hpp", "uint32_t taken() const noexcept {\n    uint32_t n = 0;\n"
       "    for (size_t i = 0; i < records_.size(); ++i)\n"
       "      if (SlotWord::phase(records_[i].word.load(", "seq_cst", "acquire")]),
    ("grant_meets_lowered_limit", "rc11",
     [("detail/slot_table.hpp", "if (r.word.compare_exchange_strong(w, "
       "SlotWord::make(gen, SlotPhase::kClaiming),", "seq_cst", "acq_rel"),
      ("detail/admission.hpp", "sees the record taken.\n      ctl_.compare_exchange_weak(c, next,",
       "seq_cst", "acq_rel"),
      ("detail/slot_table.hpp", "bool taken_from(size_t from) const noexcept {\n"
       "    for (size_t i = from; i < records_.size(); ++i)\n"
       "      if (SlotWord::phase(records_[i].word.load(", "seq_cst", "acquire")]),
    ("confirmed_grant_meets_census", "rc11",
     [("detail/admission.hpp", "if (!ctl_.compare_exchange_weak(c, CW::take_one(c),",
       "release", "relaxed"),
      ("detail/admission.hpp", "breaks with relaxed here).\n      Word c = ctl_.load(",
       "acquire", "relaxed")]),
    ("settle_after_lowered_limit", "rc11",
     [("detail/admission.hpp", "another's loads (tests/genmc/settle_after_lowered_limit.cpp breaks "
       "with acquire here).\n    Word c = ctl_.load(", "seq_cst", "acquire")]),
    ("grant_meets_closed_gate", "rc11",
     [("detail/admission.hpp", "ctl_.compare_exchange_weak(c, CW::with_credit(c, 0),",
       "seq_cst", "acq_rel"),
      ("detail/slot_table.hpp", "the gate closed on the word (Admission::set_credit).\n"
       "      const uint32_t w = r.word.load(", "seq_cst", "acquire")]),
    # The grant token's hand-over: the next holder sees the granter's state.
    ("token_hands_over_granter_state", "rc11",
     [("detail/admission.hpp", "to join that release sequence.\n"
       "      if (ctl_.compare_exchange_weak(c, next,", "acq_rel", "release"),
      ("detail/admission.hpp", "before\n      // we run again.\n"
       "      if (ctl_.compare_exchange_weak(c, next,", "acq_rel", "acquire")]),
    ("ticket_allocate_follows_abandon", "rc11",
     [("detail/ticket_table.hpp", "W::make(gen, TicketPhase::kPreparing, flags),",
       "acquire", "relaxed"),
      ("detail/ticket_table.hpp", "r.word.store(W::make(g, TicketPhase::kFree, 0),",
       "release", "relaxed")]),
    ("cancel_meets_grant", "rc11",
     [("detail/ticket_table.hpp", "compare_exchange_strong(w, W::free(w), ", "acq_rel",
       "release")]),
    ("judged_reading_read_whole", "rc11",
     [("detail/usage_gate.hpp", "seen_.store(has, ", "release", "relaxed"),
      ("detail/usage_gate.hpp", "seen_sessions_.store(r.sessions, ", "release", "relaxed"),
      ("detail/usage_gate.hpp", "seen_seq_.store(v + 2, ", "release", "relaxed"),
      ("detail/usage_gate.hpp", "as in a seqlock.\n    const uint32_t v = seen_seq_.load(", "acquire",
       "relaxed"),
      ("detail/usage_gate.hpp", "const bool same = seen_.load(", "acquire", "relaxed"),
      ("detail/usage_gate.hpp", "r.sessions == seen_sessions_.load(", "acquire", "relaxed")]),
    ("judged_reading_read_whole_time", "rc11",
     [("detail/usage_gate.hpp", "seen_at_.store(r.sampled_at, ", "release", "relaxed"),
      ("detail/usage_gate.hpp", "r.sampled_at == seen_at_.load(", "acquire", "relaxed")]),
    ("judged_version_binds_fast_path", "imm",
     [("detail/usage_gate.hpp", "judged_version_.store(version, ", "release", "relaxed",
       "holds"),
      ("detail/usage_gate.hpp", "return (version & 1u) != 0 || judged_version_.load(",
       "acquire", "relaxed", "holds")]),
    ("ticket_retire_ends_reads", "imm",
     [("detail/ticket_table.hpp", "W::free(w),", "acq_rel", "acquire")]),
]


def shown(include="include/slotgate"):
    """{(header, offset of the order's token, weakened to): program}: exactly the weakenings
    the programs here show (another order on the same line, or the other half of an acq_rel,
    is not among them)."""
    out = {}
    for program, _, sites in CASES:
        for path, before, order, to, *expect in sites:
            if expect:
                continue  # not needed under that model: not shown
            text = open(f"{include}/{path}").read()
            at = text.index(before) + len(before)
            out[(path, text.index("std::memory_order_" + order, at), to)] = program
    return out

