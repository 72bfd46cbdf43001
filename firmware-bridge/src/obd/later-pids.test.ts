/**
 * SAE J1979 service 01 PIDs 61-C4, one vector per PID. Every expected value is worked out here
 * from the published formula (J1979-DA, Wikipedia "OBD-II PIDs": A, B, C ... are the data bytes)
 * with the bytes written out, never by calling the decoder; each case also checks that a field
 * whose "supported" bit is clear yields no reading.
 */
import { signalInfo } from '@enginechain/shared';
import { describe, expect, it } from 'vitest';
import { decodeMode01Pid, MODE01_PIDS, ObdError, splitMode01Response } from './index.js';

const bytes = (hex: string) =>
  Uint8Array.from(hex.trim().split(/\s+/).filter(Boolean), (h) => parseInt(h, 16));
const O = 'Vehicle.OBD.';

type Expected = Record<string, number | boolean | string>;

/** [PID, data bytes after `41 <PID>`, expected readings by VSS name (exactly these)]. */
const VECTORS: [number, string, Expected][] = [
  [0x61, '96', { [`${O}DriverDemandEngineTorque`]: 0x96 - 125 }],
  [0x62, '64', { [`${O}ActualEngineTorque`]: 0x64 - 125 }],
  [0x63, '01 F4', { [`${O}EngineReferenceTorque`]: 256 * 0x01 + 0xf4 }],
  [
    0x64,
    '7D 8C A0 B4 C8',
    {
      [`${O}EngineTorqueIdle`]: 0x7d - 125,
      [`${O}EngineTorquePoint1`]: 0x8c - 125,
      [`${O}EngineTorquePoint2`]: 0xa0 - 125,
      [`${O}EngineTorquePoint3`]: 0xb4 - 125,
      [`${O}EngineTorquePoint4`]: 0xc8 - 125,
    },
  ],
  // A = 0B: PTO, N/D and glow plug lamp supported, N/G not; B = 09: PTO on, not in drive, lamp on.
  [
    0x65,
    '0B 09',
    {
      [`${O}AuxiliaryIO.IsPTOActive`]: true,
      [`${O}AuxiliaryIO.IsAutomaticInDrive`]: false,
      [`${O}AuxiliaryIO.IsGlowPlugLampOn`]: true,
    },
  ],
  [0x66, '01 0C 80 FF FF', { [`${O}MAFSensorA`]: (256 * 0x0c + 0x80) / 32 }],
  [
    0x67,
    '03 7B 82',
    { [`${O}CoolantTemperatureSensor1`]: 0x7b - 40, [`${O}CoolantTemperatureSensor2`]: 0x82 - 40 },
  ],
  // Short (3-byte) form of 68: sensors 1 and 2 of bank 1.
  [0x68, '02 41 50', { [`${O}IntakeTempSensor2`]: 0x50 - 40 }],
  // J1979-DA 7-byte form: bank 1 sensors 1-3, bank 2 sensors 1-3.
  [
    0x68,
    '2D 41 42 43 44 45 46',
    {
      [`${O}IntakeTempSensor1`]: 0x41 - 40,
      [`${O}IntakeTempBank1Sensor3`]: 0x43 - 40,
      [`${O}IntakeTempBank2Sensor1`]: 0x44 - 40,
      [`${O}IntakeTempBank2Sensor3`]: 0x46 - 40,
    },
  ],
  [
    0x69,
    '3F 33 30 84 66 60 7C',
    {
      [`${O}CommandedEGRA`]: (0x33 * 100) / 255,
      [`${O}ActualEGRA`]: (0x30 * 100) / 255,
      [`${O}EGRAError`]: (0x84 * 100) / 128 - 100,
      [`${O}CommandedEGRB`]: (0x66 * 100) / 255,
      [`${O}ActualEGRB`]: (0x60 * 100) / 255,
      [`${O}EGRBError`]: (0x7c * 100) / 128 - 100,
    },
  ],
  [
    0x6a,
    '05 80 40 20 10',
    {
      [`${O}DieselIntakeAirFlow.CommandedA`]: (0x80 * 100) / 255,
      [`${O}DieselIntakeAirFlow.CommandedB`]: (0x20 * 100) / 255,
    },
  ],
  [
    0x6b,
    '0F 78 8C A0 B4',
    {
      [`${O}EGRTemperature.Bank1Sensor1`]: 0x78 - 40,
      [`${O}EGRTemperature.Bank1Sensor2`]: 0x8c - 40,
      [`${O}EGRTemperature.Bank2Sensor1`]: 0xa0 - 40,
      [`${O}EGRTemperature.Bank2Sensor2`]: 0xb4 - 40,
    },
  ],
  [
    0x6c,
    '0A 00 33 00 FF',
    {
      [`${O}ThrottleActuatorControl.PositionA`]: (0x33 * 100) / 255,
      [`${O}ThrottleActuatorControl.PositionB`]: (0xff * 100) / 255,
    },
  ],
  [
    0x6d,
    '3F 09 C4 09 BA 5A 00 64 00 65 3C',
    {
      [`${O}FuelPressureControl.CommandedRailPressureA`]: 10 * (256 * 0x09 + 0xc4),
      [`${O}FuelPressureControl.RailPressureA`]: 10 * (256 * 0x09 + 0xba),
      [`${O}FuelPressureControl.RailTemperatureA`]: 0x5a - 40,
      [`${O}FuelPressureControl.CommandedRailPressureB`]: 10 * (256 * 0x00 + 0x64),
      [`${O}FuelPressureControl.RailPressureB`]: 10 * (256 * 0x00 + 0x65),
      [`${O}FuelPressureControl.RailTemperatureB`]: 0x3c - 40,
    },
  ],
  [
    0x6e,
    '03 13 88 13 7E 00 00 00 00',
    {
      [`${O}InjectionPressureControl.CommandedA`]: 10 * (256 * 0x13 + 0x88),
      [`${O}InjectionPressureControl.PressureA`]: 10 * (256 * 0x13 + 0x7e),
    },
  ],
  [0x6f, '02 00 62', { [`${O}TurboInletPressureB`]: 0x62 }],
  [
    0x70,
    '3F 0A 00 09 E0 00 00 00 00 06',
    {
      [`${O}BoostPressureControl.CommandedA`]: (256 * 0x0a + 0x00) / 32,
      [`${O}BoostPressureControl.PressureA`]: (256 * 0x09 + 0xe0) / 32,
      [`${O}BoostPressureControl.CommandedB`]: 0,
      [`${O}BoostPressureControl.PressureB`]: 0,
      // J: bits 0-1 = 2 (closed loop) for A, bits 2-3 = 1 (open loop) for B.
      [`${O}BoostPressureControl.StatusA`]: 'CLOSED_LOOP',
      [`${O}BoostPressureControl.StatusB`]: 'OPEN_LOOP',
    },
  ],
  [
    0x71,
    '13 66 60 00 00 03',
    {
      [`${O}VGTControl.CommandedA`]: (0x66 * 100) / 255,
      [`${O}VGTControl.PositionA`]: (0x60 * 100) / 255,
      [`${O}VGTControl.StatusA`]: 'FAULT',
    },
  ],
  [
    0x72,
    '03 1A 1C 00 00',
    {
      [`${O}WastegateControl.CommandedA`]: (0x1a * 100) / 255,
      [`${O}WastegateControl.PositionA`]: (0x1c * 100) / 255,
    },
  ],
  [
    0x73,
    '03 27 10 28 0A',
    {
      [`${O}ExhaustPressureB1`]: (256 * 0x27 + 0x10) / 100,
      [`${O}ExhaustPressureB2`]: (256 * 0x28 + 0x0a) / 100,
    },
  ],
  // 10 rpm per bit: 0x3A98 = 15,000 -> 150,000 rpm.
  [0x74, '01 3A 98 00 00', { [`${O}Turbocharger.SpeedA`]: 10 * (256 * 0x3a + 0x98) }],
  [
    0x75,
    '0F 41 87 21 34 1C 84',
    {
      [`${O}Turbocharger.TemperatureA.CompressorInlet`]: 0x41 - 40,
      [`${O}Turbocharger.TemperatureA.CompressorOutlet`]: 0x87 - 40,
      [`${O}Turbocharger.TemperatureA.TurbineInlet`]: (256 * 0x21 + 0x34) / 10 - 40,
      [`${O}Turbocharger.TemperatureA.TurbineOutlet`]: (256 * 0x1c + 0x84) / 10 - 40,
    },
  ],
  [
    0x76,
    '04 00 00 21 34 00 00',
    { [`${O}Turbocharger.TemperatureB.TurbineInlet`]: (256 * 0x21 + 0x34) / 10 - 40 },
  ],
  [
    0x77,
    '09 5A 00 00 64',
    {
      [`${O}ChargeAirCoolerTemperature.Bank1Sensor1`]: 0x5a - 40,
      [`${O}ChargeAirCoolerTemperature.Bank2Sensor2`]: 0x64 - 40,
    },
  ],
  [
    0x78,
    '05 12 34 00 00 1A 2B 00 00',
    {
      [`${O}ExhaustGasTemperatureB1S1`]: (256 * 0x12 + 0x34) / 10 - 40,
      [`${O}ExhaustGasTemperatureB1S3`]: (256 * 0x1a + 0x2b) / 10 - 40,
    },
  ],
  [
    0x79,
    '08 00 00 00 00 00 00 20 00',
    { [`${O}ExhaustGasTemperatureB2S4`]: (256 * 0x20 + 0x00) / 10 - 40 },
  ],
  // Delta pressure signed: FF 38 = -200 -> -2.00 kPa.
  [
    0x7a,
    '07 FF 38 27 74 27 10',
    {
      [`${O}DPF.Bank1.DeltaPressure`]: (256 * 0xff + 0x38 - 65536) / 100,
      [`${O}DPF.Bank1.InletPressure`]: (256 * 0x27 + 0x74) / 100,
      [`${O}DPF.Bank1.OutletPressure`]: (256 * 0x27 + 0x10) / 100,
    },
  ],
  [0x7b, '01 01 F4 00 00 00 00', { [`${O}DPF.Bank2.DeltaPressure`]: (256 * 0x01 + 0xf4) / 100 }],
  [
    0x7c,
    '03 1B 58 19 64 00 00 00 00',
    {
      [`${O}DPF.Bank1.InletTemperature`]: (256 * 0x1b + 0x58) / 10 - 40,
      [`${O}DPF.Bank1.OutletTemperature`]: (256 * 0x19 + 0x64) / 10 - 40,
    },
  ],
  [
    0x7d,
    '05',
    {
      [`${O}NOxNTE.IsInsideControlArea`]: true,
      [`${O}NOxNTE.IsOutsideControlArea`]: false,
      [`${O}NOxNTE.IsInsideCarveOutArea`]: true,
      [`${O}NOxNTE.IsDeficiencyActive`]: false,
    },
  ],
  [
    0x7e,
    '0A',
    {
      [`${O}PMNTE.IsInsideControlArea`]: false,
      [`${O}PMNTE.IsOutsideControlArea`]: true,
      [`${O}PMNTE.IsInsideCarveOutArea`]: false,
      [`${O}PMNTE.IsDeficiencyActive`]: true,
    },
  ],
  [
    0x7f,
    '03 00 01 51 80 00 00 0E 10 FF FF FF FF',
    {
      [`${O}EngineRunTimeTotal`]: 0x01 * 65536 + 0x51 * 256 + 0x80,
      [`${O}EngineRunTimeIdle`]: 0x0e * 256 + 0x10,
    },
  ],
  [
    0x81,
    `11 00 00 0E 10 00 00 00 3C ${'00 '.repeat(24)} 00 01 00 00 00 00 00 02`,
    {
      [`${O}AECD.Device1.Timer1`]: 0x0e * 256 + 0x10,
      [`${O}AECD.Device1.Timer2`]: 0x3c,
      [`${O}AECD.Device5.Timer1`]: 0x01 * 65536,
      [`${O}AECD.Device5.Timer2`]: 2,
    },
  ],
  [
    0x82,
    `02 ${'00 '.repeat(8)} 00 00 00 0A 00 00 00 0B ${'00 '.repeat(24)}`,
    { [`${O}AECD.Device7.Timer1`]: 10, [`${O}AECD.Device7.Timer2`]: 11 },
  ],
  [
    0x83,
    '09 00 96 00 00 00 00 01 2C',
    {
      [`${O}NOxSensor.Bank1Sensor1`]: 256 * 0x00 + 0x96,
      [`${O}NOxSensor.Bank2Sensor2`]: 256 * 0x01 + 0x2c,
    },
  ],
  [0x84, '5F', { [`${O}ManifoldSurfaceTemperature`]: 0x5f - 40 }],
  [
    0x85,
    '0F 00 C8 01 2C 80 00 00 0E 10',
    {
      [`${O}NOxReagent.AverageConsumption`]: (256 * 0x00 + 0xc8) / 200,
      [`${O}NOxReagent.AverageDemandedConsumption`]: (256 * 0x01 + 0x2c) / 200,
      [`${O}NOxReagent.TankLevel`]: (0x80 * 100) / 255,
      [`${O}NOxReagent.TimeWithNOxWarning`]: 0x0e * 256 + 0x10,
    },
  ],
  [0x86, '01 03 E8 00 00', { [`${O}PMSensor.Bank1Sensor1`]: (256 * 0x03 + 0xe8) * 0.0125 }],
  [
    0x87,
    '03 0C 80 0D 00',
    {
      [`${O}IntakeManifoldPressureA`]: (256 * 0x0c + 0x80) / 32,
      [`${O}IntakeManifoldPressureB`]: (256 * 0x0d + 0x00) / 32,
    },
  ],
  [
    0x88,
    '81 10 00 00 0F 03 E8 00 05 00 00 00 01',
    {
      [`${O}SCRInducement.IsReagentLevelLow`]: true,
      [`${O}SCRInducement.IsReagentIncorrect`]: false,
      [`${O}SCRInducement.IsConsumptionDeviating`]: false,
      [`${O}SCRInducement.IsNOxTooHigh`]: false,
      [`${O}SCRInducement.IsActive`]: true,
      [`${O}SCRInducement.DistanceWithInducement`]: 0x0f,
      [`${O}SCRInducement.DistanceInBlock`]: 256 * 0x03 + 0xe8,
      [`${O}SCRInducement.DistanceWithInducementBlock2`]: 5,
      [`${O}SCRInducement.DistanceWithInducementBlock3`]: 0,
      [`${O}SCRInducement.DistanceWithInducementBlock4`]: 1,
    },
  ],
  [
    0x89,
    `10 ${'00 '.repeat(32)} 00 00 00 07 00 00 00 08`,
    { [`${O}AECD.Device15.Timer1`]: 7, [`${O}AECD.Device15.Timer2`]: 8 },
  ],
  [
    0x8a,
    `01 00 00 00 01 00 00 00 02 ${'00 '.repeat(32)}`,
    { [`${O}AECD.Device16.Timer1`]: 1, [`${O}AECD.Device16.Timer2`]: 2 },
  ],
  [
    0x8b,
    '7F 03 33 01 2C 01 F4',
    {
      [`${O}DieselAftertreatment.IsDPFRegenerating`]: true,
      [`${O}DieselAftertreatment.IsDPFRegenerationActive`]: true,
      [`${O}DieselAftertreatment.IsNOxAdsorberRegenerating`]: false,
      [`${O}DieselAftertreatment.IsNOxAdsorberDesulfurizing`]: false,
      [`${O}DieselAftertreatment.DPFRegenerationTrigger`]: (0x33 * 100) / 255,
      [`${O}DieselAftertreatment.AverageTimeBetweenRegenerations`]: 256 * 0x01 + 0x2c,
      [`${O}DieselAftertreatment.AverageDistanceBetweenRegenerations`]: 256 * 0x01 + 0xf4,
    },
  ],
  [
    0x8c,
    '11 1A E1 00 00 00 00 00 00 20 00 00 00 00 00 00 00',
    {
      [`${O}WideRangeO2.Bank1Sensor1.Concentration`]: ((256 * 0x1a + 0xe1) * 100) / 65535,
      [`${O}WideRangeO2.Bank1Sensor1.Lambda`]: (256 * 0x20 + 0x00) / 8192,
    },
  ],
  [0x8d, '80', { [`${O}ThrottlePositionG`]: (0x80 * 100) / 255 }],
  [0x8e, '87', { [`${O}EngineFrictionTorque`]: 0x87 - 125 }],
  [
    0x8f,
    '03 01 13 88 02 00 00',
    {
      [`${O}PMSensor.Bank1.IsActive`]: true,
      [`${O}PMSensor.Bank1.IsRegenerating`]: false,
    },
  ],
  [
    0x8f,
    '3C 01 13 88 02 00 64',
    {
      [`${O}PMSensor.Bank1.Output`]: (256 * 0x13 + 0x88) / 100,
      [`${O}PMSensor.Bank2.IsActive`]: false,
      [`${O}PMSensor.Bank2.IsRegenerating`]: true,
      [`${O}PMSensor.Bank2.Output`]: (256 * 0x00 + 0x64) / 100,
    },
  ],
  // A bits 2-5 = 3: continuous MIL.
  [0x90, '0C 00 2A', { [`${O}WWHOBD.MILState`]: 'CONTINUOUS', [`${O}WWHOBD.MILOnHours`]: 0x2a }],
  [
    0x91,
    '02 00 05 00 09',
    {
      [`${O}WWHOBD.ECUMILState`]: 'SHORT',
      [`${O}WWHOBD.ECUMILOnHours`]: 5,
      [`${O}WWHOBD.ECUMILOnHoursMax`]: 9,
    },
  ],
  [
    0x92,
    '11 01',
    {
      [`${O}FuelSystemControl.IsPressure1ClosedLoop`]: true,
      [`${O}FuelSystemControl.IsPressure2ClosedLoop`]: false,
    },
  ],
  [0x93, '01 01 00', { [`${O}WWHOBD.ContinuousMILHours`]: 256 }],
  // B = 45 = 0100 0101b: bit 0 warning on; levels in bits 1-2, 3-4, 5-6.
  [
    0x94,
    '1F 45 00 01 00 02 00 03 00 04 00 05',
    {
      [`${O}NOxWarning.IsActive`]: true,
      // bits 1-2 of 0x45 = 10b = 2, bits 3-4 = 00b = 0, bits 5-6 = 10b = 2.
      [`${O}NOxWarning.Level1Inducement`]: 'ACTIVE',
      [`${O}NOxWarning.Level2Inducement`]: 'INACTIVE',
      [`${O}NOxWarning.Level3Inducement`]: 'ACTIVE',
      [`${O}NOxWarning.ReagentQualityHours`]: 1,
      [`${O}NOxWarning.ReagentConsumptionHours`]: 2,
      [`${O}NOxWarning.DosingActivityHours`]: 3,
      [`${O}NOxWarning.EGRValveHours`]: 4,
      [`${O}NOxWarning.MonitoringSystemHours`]: 5,
    },
  ],
  [
    0x98,
    '01 12 34 00 00 00 00 00 00',
    { [`${O}ExhaustGasTemperatureB1S5`]: (256 * 0x12 + 0x34) / 10 - 40 },
  ],
  [
    0x99,
    '08 00 00 00 00 00 00 1F 40',
    { [`${O}ExhaustGasTemperatureB2S8`]: (256 * 0x1f + 0x40) / 10 - 40 },
  ],
  // Voltage 1/64 V per bit; current signed, 0.1 A per bit (FF 9C = -100 -> -10.0 A).
  [
    0x9a,
    '07 01 5D C0 FF 9C',
    {
      [`${O}HybridBattery.ChargingState`]: 1,
      [`${O}HybridBattery.Voltage`]: (256 * 0x5d + 0xc0) / 64,
      [`${O}HybridBattery.Current`]: (256 * 0xff + 0x9c - 65536) / 10,
    },
  ],
  [
    0x9b,
    '1E 82 55 CC',
    {
      [`${O}DEF.Concentration`]: 0x82 / 4,
      [`${O}DEF.TankTemperature`]: 0x55 - 40,
      [`${O}DEF.TankLevel`]: (0xcc * 100) / 255,
    },
  ],
  [
    0x9b,
    '1F 82 55 CC',
    {
      [`${O}DEF.Type`]: 0x1f >> 4,
      [`${O}DEF.Concentration`]: 0x82 / 4,
      [`${O}DEF.TankTemperature`]: 0x55 - 40,
      [`${O}DEF.TankLevel`]: (0xcc * 100) / 255,
    },
  ],
  [
    0x9c,
    '80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 1F 00',
    { [`${O}WideRangeO2.Bank2Sensor4.Lambda`]: (256 * 0x1f + 0x00) / 8192 },
  ],
  [
    0x9d,
    '01 F4 03 E8',
    {
      [`${O}EngineFuelRate`]: (256 * 0x01 + 0xf4) / 50,
      [`${O}VehicleFuelRate`]: (256 * 0x03 + 0xe8) / 50,
    },
  ],
  [0x9e, '03 E8', { [`${O}ExhaustFlowRate`]: (256 * 0x03 + 0xe8) / 5 }],
  [
    0xa1,
    '02 00 00 00 C8 00 00 00 00',
    { [`${O}NOxSensorCorrected.Bank1Sensor2`]: 256 * 0x00 + 0xc8 },
  ],
  [0xa2, '01 40', { [`${O}CylinderFuelRate`]: (256 * 0x01 + 0x40) / 32 }],
  [
    0xa4,
    '02 40 0A 8C',
    {
      'Vehicle.Powertrain.Transmission.CurrentGear': 0x40 >> 4,
      [`${O}TransmissionGearRatio`]: (256 * 0x0a + 0x8c) / 1000,
    },
  ],
  [0xa5, '01 15 00 00', { [`${O}CommandedDEFDosing`]: 0x15 / 2 }],
  [0xa6, '00 0F 42 40', { 'Vehicle.TraveledDistance': (0x0f * 65536 + 0x42 * 256 + 0x40) / 10 }],
  [0xa9, '01 01 00 00', { [`${O}IsABSDisabled`]: true }],
  [0xa9, '00 01 00 00', {}],
  // C4 byte B: bit 5 idle request, bit 6 stop request.
  [0xc4, '00 40', { [`${O}IsEngineIdleRequested`]: false, [`${O}IsEngineStopRequested`]: true }],
];

describe('service 01 PIDs 61-C4: J1979 formulas, one vector each', () => {
  it.each(
    VECTORS.map(([pid, hex, want]) => [pid.toString(16).toUpperCase(), hex, want, pid] as const),
  )('PID %s: %s', (_name, hex, want, pid) => {
    const got = decodeMode01Pid(pid, bytes(hex));
    expect(Object.fromEntries(got.map((v) => [v.name, v.value]))).toEqual(
      Object.fromEntries(
        Object.entries(want).map(([k, v]) => [k, typeof v === 'number' ? expect.closeTo(v, 9) : v]),
      ),
    );
    for (const v of got) expect(v.unit, v.name).toBe(signalInfo(v.name)?.unit);
  });

  it('covers every PID from 61 to C4 that J1979 gives a layout for', () => {
    const tested = new Set(VECTORS.map(([pid]) => pid));
    // Bitmaps, and the PIDs whose layout the public J1979 summaries leave out (see pids.ts).
    const lengthOnly = new Set([0x80, 0xa0, 0xc0, 0x9f, 0xa3, 0xa7, 0xa8, 0xc3]);
    const untested = MODE01_PIDS.filter(
      (d) => d.pid >= 0x61 && !tested.has(d.pid) && !lengthOnly.has(d.pid),
    ).map((d) => d.pid.toString(16));
    expect(untested).toEqual([]);
    for (const pid of lengthOnly) expect(decodeMode01Pid(pid, new Uint8Array(41))).toEqual([]);
  });

  it('a field whose supported bit is clear gives no reading, even with data behind it', () => {
    expect(decodeMode01Pid(0x6d, bytes('00 09 C4 09 BA 5A 00 64 00 65 3C'))).toEqual([]);
    expect(decodeMode01Pid(0x81, new Uint8Array(41).fill(0x11).fill(0, 0, 1))).toEqual([]);
  });

  it('splits a CAN reply that carries several of these PIDs', () => {
    const parts = splitMode01Response(bytes('41 61 96 62 64 63 01 F4 74 01 3A 98 00 00'));
    expect(parts.map((p) => p.pid)).toEqual([0x61, 0x62, 0x63, 0x74]);
  });

  it('says truncated when a multi-sensor PID is short', () => {
    const err = (() => {
      try {
        decodeMode01Pid(0x6d, bytes('3F 09 C4'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ObdError);
    expect(err).toMatchObject({ code: 'truncated' });
  });
});
