// imu_serial.ino - an MPU-6050 IMU streamed to gesturemap over USB serial.
//
// Wiring: MPU-6050 breakout VCC -> 3.3 V or 5 V (per the breakout), GND -> GND, SDA -> SDA,
// SCL -> SCL, AD0 -> GND (I2C address 0x68). Any Arduino with Wire and a USB serial port.
//
// Output, 100 readings per second at 115200 baud, chosen with OUTPUT_BINARY below:
//   0: text lines "millis,ax,ay,az,gx,gy,gz\n" (profile sensors/arduino-imu-text.json);
//      acceleration in g, rotation rate in degrees/s. Readable in the Serial Monitor/Plotter.
//   1: binary frames (profile sensors/arduino-imu-binary.json), as documented in
//      sensors/README.md:
//        0xA5 0x5A              sync
//        n                      uint8, number of values (6 here)
//        n x float32            the values, little-endian IEEE 754 (ax ay az gx gy gz)
//        crc                    uint16, little-endian: CRC-16/CCITT-FALSE of n and the values
//                               (polynomial 0x1021, initial value 0xFFFF, no reflection,
//                               no final XOR)
//
// Registers and scale factors: InvenSense MPU-6000/MPU-6050 Register Map and Descriptions,
// rev. 4.2 (PWR_MGMT_1 0x6B, CONFIG 0x1A, GYRO_CONFIG 0x1B, ACCEL_CONFIG 0x1C,
// ACCEL_XOUT_H 0x3B; +-2 g = 16384 LSB/g, +-250 deg/s = 131 LSB/(deg/s)).

#include <Arduino.h>
#include <Wire.h>
#include <string.h>

#ifndef OUTPUT_BINARY
#define OUTPUT_BINARY 0
#endif

const uint8_t MPU_ADDRESS = 0x68;
const unsigned long PERIOD_US = 10000;  // 100 Hz
const uint8_t N_VALUES = 6;

static unsigned long nextReading = 0;

static void writeRegister(uint8_t reg, uint8_t value) {
  Wire.beginTransmission(MPU_ADDRESS);
  Wire.write(reg);
  Wire.write(value);
  Wire.endTransmission();
}

// Reads acceleration (g) and rotation rate (deg/s) into values[0..5]; false if the bus failed.
static bool readImu(float values[N_VALUES]) {
  Wire.beginTransmission(MPU_ADDRESS);
  Wire.write(0x3B);  // ACCEL_XOUT_H: then ACCEL Y, Z, TEMP, GYRO X, Y, Z, big-endian int16
  if (Wire.endTransmission(false) != 0) {
    return false;
  }
  if (Wire.requestFrom(MPU_ADDRESS, (uint8_t)14) != 14) {
    return false;
  }
  int16_t raw[7];
  for (uint8_t i = 0; i < 7; i++) {
    // Two statements: the order of two Wire.read() calls in one expression is unspecified.
    uint8_t high = Wire.read();
    uint8_t low = Wire.read();
    raw[i] = (int16_t)(((uint16_t)high << 8) | low);
  }
  for (uint8_t i = 0; i < 3; i++) {
    values[i] = raw[i] / 16384.0f;          // accelerometer, +-2 g
    values[3 + i] = raw[4 + i] / 131.0f;    // gyroscope, +-250 deg/s (raw[3] is temperature)
  }
  return true;
}

static uint16_t crc16(const uint8_t *data, size_t length) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < length; i++) {
    crc ^= (uint16_t)data[i] << 8;
    for (uint8_t bit = 0; bit < 8; bit++) {
      crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
  }
  return crc;
}

static void sendBinary(const float values[N_VALUES]) {
  uint8_t frame[5 + 4 * N_VALUES];
  frame[0] = 0xA5;
  frame[1] = 0x5A;
  frame[2] = N_VALUES;
  // AVR, ARM Cortex-M, ESP32 and RP2040 all store float as little-endian IEEE 754 binary32.
  memcpy(frame + 3, values, 4 * N_VALUES);
  uint16_t crc = crc16(frame + 2, 1 + 4 * N_VALUES);
  frame[3 + 4 * N_VALUES] = crc & 0xFF;
  frame[4 + 4 * N_VALUES] = crc >> 8;
  Serial.write(frame, sizeof(frame));
}

static void sendText(unsigned long millisecond, const float values[N_VALUES]) {
  Serial.print(millisecond);
  for (uint8_t i = 0; i < N_VALUES; i++) {
    Serial.print(',');
    Serial.print(values[i], 4);
  }
  Serial.print('\n');
}

void setup() {
  Serial.begin(115200);
  Wire.begin();
  Wire.setClock(400000);
  writeRegister(0x6B, 0x00);  // PWR_MGMT_1: wake up
  writeRegister(0x1A, 0x03);  // CONFIG: digital low-pass filter at 44 Hz (gyro 42 Hz)
  writeRegister(0x1B, 0x00);  // GYRO_CONFIG: +-250 deg/s
  writeRegister(0x1C, 0x00);  // ACCEL_CONFIG: +-2 g
  if (!OUTPUT_BINARY) {
    Serial.print("# gesturemap imu_serial: millis,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n");
  }
  nextReading = micros();
}

void loop() {
  // Unsigned subtraction keeps the schedule right across the micros() wrap-around.
  if ((long)(micros() - nextReading) < 0) {
    return;
  }
  nextReading += PERIOD_US;
  float values[N_VALUES];
  if (!readImu(values)) {
    return;
  }
  if (OUTPUT_BINARY) {
    sendBinary(values);
  } else {
    sendText(millis(), values);
  }
}
