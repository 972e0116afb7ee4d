// A stand-in for the Arduino Wire library: a simulated MPU-6050 whose 14 data registers read
// raw[j] = ((97 * k + 4099 * j) mod 65536) - 32768 for the k-th reading (j = 0..6, big-endian),
// the sequence tests/sources/test_sources_firmware.py expects.
#pragma once
#include <stdint.h>

struct HostWire {
  void begin() {}
  void setClock(uint32_t) {}
  void beginTransmission(uint8_t) {}
  void write(uint8_t) {}
  uint8_t endTransmission(bool = true) { return 0; }
  uint8_t requestFrom(uint8_t, uint8_t count);
  int read();
};
extern HostWire Wire;
