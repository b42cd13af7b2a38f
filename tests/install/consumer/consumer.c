/* An installed slotgate, used from C99. */
#include <slotgate/slotgate.h>
#include <stdio.h>
#include <string.h>

static slotgate_tick fixed_now(void* context) {
  (void)context;
  return 42;
}

static unsigned char storage[SLOTGATE_LIMITER_STORAGE];

int main(void) {
  slotgate_port port;
  slotgate_permit p;
  slotgate_limiter* l;
  memset(&port, 0, sizeof port);
  port.now = fixed_now;
  l = slotgate_init(storage, sizeof storage, &port);
  if (l == NULL || slotgate_try_acquire(l, &p) != SLOTGATE_OK) return 1;
  if (slotgate_release(l, p) != SLOTGATE_OK) return 1;
  printf("C consumer: slotgate %s works\n", SLOTGATE_VERSION_STRING);
  return 0;
}
