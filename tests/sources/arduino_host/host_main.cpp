// Runs a sketch on the host: setup(), then loop() until N readings (argv[1]) were requested.
#include <stdlib.h>

#include "Arduino.h"
#include "Wire.h"

HostSerial Serial;
HostWire Wire;

static unsigned long clock_us = 0;
static long readings = 0;
static uint8_t registers[14];
static int cursor = 0;

unsigned long micros() { return clock_us += 100; }
unsigned long millis() { return clock_us / 1000; }

uint8_t HostWire::requestFrom(uint8_t, uint8_t count) {
  for (int j = 0; j < 7; j++) {
    long raw = ((97L * readings + 4099L * j) % 65536L) - 32768L;
    registers[2 * j] = (uint8_t)((raw >> 8) & 0xFF);
    registers[2 * j + 1] = (uint8_t)(raw & 0xFF);
  }
  readings++;
  cursor = 0;
  return count;
}

int HostWire::read() { return registers[cursor++]; }

void setup();
void loop();

int main(int argc, char **argv) {
  long wanted = argc > 1 ? atol(argv[1]) : 100;
  setup();
  while (readings < wanted) loop();
  fflush(stdout);
  return 0;
}
