// A stand-in for the Arduino core, just enough to run sensors/firmware sketches on the host.
// The simulated clock advances 100 us per micros() call; Serial writes to stdout.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

unsigned long micros();
unsigned long millis();

struct HostSerial {
  void begin(unsigned long) {}
  void print(const char *text) { fputs(text, stdout); }
  void print(char c) { fputc(c, stdout); }
  void print(unsigned long value) { printf("%lu", value); }
  // Arduino's Print::print(double, digits): fixed notation with that many decimals.
  void print(double value, int digits) { printf("%.*f", digits, value); }
  size_t write(const uint8_t *data, size_t length) { return fwrite(data, 1, length, stdout); }
};
extern HostSerial Serial;
