/**
 * The signal catalogue: every signal enginechain emits, by COVESA VSS path, with its VSS unit,
 * datatype and a short description. One table, so a name that turns out wrong is corrected in
 * one place: the OBD-II decoder finds its output names here through `obd` keys, never by
 * spelling a path itself.
 *
 * Names follow VSS 4.x. Headline quantities use the main tree (`Vehicle.Speed`,
 * `Vehicle.Powertrain.CombustionEngine.Speed`, `.ECT`, `Vehicle.Powertrain.FuelSystem.RelativeLevel`,
 * `Vehicle.TraveledDistance`, `Vehicle.Exterior.AirTemperature`), because those are what every
 * VSS consumer reads whatever the car's interface; the rest of SAE J1979 mode 01 uses the VSS
 * `Vehicle.OBD.*` branch. Where VSS has no path (J1979 PIDs added after VSS's OBD branch was
 * written, GNSS speed, pending/permanent DTC lists) the entry is an enginechain overlay
 * (`standard: false`) under the branch a VSS overlay would extend.
 */

export type VssDatatype =
  | 'boolean'
  | 'string'
  | 'string[]'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'float'
  | 'double';

export interface SignalInfo {
  /** COVESA VSS path. */
  readonly name: string;
  /** VSS unit (`km/h`, `rpm`, `celsius`, ...); empty for unitless enumerations and counts. */
  readonly unit: string;
  /**
   * VSS datatype. `string[]` signals (DTC lists, calibration IDs) travel as one
   * comma-separated string in a `Reading`, e.g. `P0301,P0420`.
   */
  readonly datatype: VssDatatype;
  readonly description: string;
  /** True for a path in the VSS 4.x standard catalogue, false for an enginechain overlay. */
  readonly standard: boolean;
  /**
   * Where an OBD-II decoder takes it from: `01:0D` (mode 01 PID 0D), `01:14/voltage` (one of
   * several values of a PID), `03` (mode 03), `09:02` (mode 09 info type 02), `ATRV`. Several
   * keys when J1979 carries the same quantity in more than one PID (wide-range O2 lambda).
   */
  readonly obd?: readonly string[];
}

type Row = readonly [
  name: string,
  unit: string,
  datatype: VssDatatype,
  description: string,
  obd?: string,
  overlay?: 'overlay',
];

const O2_SENSOR_PIDS = [0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b];
const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

function o2Rows(): Row[] {
  const rows: Row[] = [];
  O2_SENSOR_PIDS.forEach((pid, i) => {
    const n = i + 1;
    rows.push(
      [
        `Vehicle.OBD.O2.Sensor${n}.Voltage`,
        'V',
        'float',
        `PID ${hex(pid)} - O2 sensor ${n} voltage`,
        `01:${hex(pid)}/voltage`,
      ],
      [
        `Vehicle.OBD.O2.Sensor${n}.ShortTermFuelTrim`,
        'percent',
        'float',
        `PID ${hex(pid)} - O2 sensor ${n} short term fuel trim`,
        `01:${hex(pid)}/trim`,
      ],
    );
  });
  for (let i = 0; i < 8; i++) {
    const n = i + 1;
    const v = 0x24 + i;
    const c = 0x34 + i;
    rows.push(
      [
        `Vehicle.OBD.O2WR.Sensor${n}.Lambda`,
        'ratio',
        'float',
        `PID ${hex(v)} and ${hex(c)} - wide range O2 sensor ${n} equivalence ratio (lambda)`,
        `01:${hex(v)}/lambda|01:${hex(c)}/lambda`,
      ],
      [
        `Vehicle.OBD.O2WR.Sensor${n}.Voltage`,
        'V',
        'float',
        `PID ${hex(v)} - wide range O2 sensor ${n} voltage`,
        `01:${hex(v)}/voltage`,
      ],
      [
        `Vehicle.OBD.O2WR.Sensor${n}.Current`,
        'mA',
        'float',
        `PID ${hex(c)} - wide range O2 sensor ${n} current`,
        `01:${hex(c)}/current`,
      ],
    );
  }
  return rows;
}

/** J1979 PIDs 65-C4 that carry several sensors each: all enginechain overlays. */
function laterPidRows(): Row[] {
  const rows: Row[] = [];
  const add = (
    name: string,
    unit: string,
    datatype: VssDatatype,
    description: string,
    obd: string,
  ) => rows.push([`Vehicle.OBD.${name}`, unit, datatype, description, obd, 'overlay']);
  const banks = [
    ['b1s1', 'Bank1Sensor1', 'bank 1 sensor 1'],
    ['b1s2', 'Bank1Sensor2', 'bank 1 sensor 2'],
    ['b2s1', 'Bank2Sensor1', 'bank 2 sensor 1'],
    ['b2s2', 'Bank2Sensor2', 'bank 2 sensor 2'],
  ] as const;
  const ab = (
    pid: string,
    branch: string,
    what: string,
    unit: string,
    fields: readonly (readonly [string, string, string])[],
  ) => {
    for (const [field, leaf, text] of fields)
      add(
        `${branch}.${leaf}`,
        unit,
        'float',
        `PID ${pid} - ${what}: ${text}`,
        `01:${pid}/${field}`,
      );
  };
  const controlAB = [
    ['commandedA', 'CommandedA', 'commanded A'],
    ['positionA', 'PositionA', 'relative position A'],
    ['commandedB', 'CommandedB', 'commanded B'],
    ['positionB', 'PositionB', 'relative position B'],
  ] as const;

  add('AuxiliaryIO.IsPTOActive', '', 'boolean', 'PID 65 - power take-off active', '01:65/pto');
  add(
    'AuxiliaryIO.IsAutomaticInDrive',
    '',
    'boolean',
    'PID 65 - automatic transmission in drive or reverse (false: park or neutral)',
    '01:65/autoInDrive',
  );
  add(
    'AuxiliaryIO.IsManualInGear',
    '',
    'boolean',
    'PID 65 - manual transmission in gear (false: neutral or clutch pressed)',
    '01:65/manualInGear',
  );
  add(
    'AuxiliaryIO.IsGlowPlugLampOn',
    '',
    'boolean',
    'PID 65 - glow plug lamp on',
    '01:65/glowPlugLamp',
  );
  ab('6A', 'DieselIntakeAirFlow', 'diesel intake air flow control', 'percent', controlAB);
  ab('6B', 'EGRTemperature', 'EGR temperature', 'celsius', banks);
  ab('6C', 'ThrottleActuatorControl', 'throttle actuator control', 'percent', controlAB);
  ab('6D', 'FuelPressureControl', 'fuel pressure control', 'kPa', [
    ['commandedA', 'CommandedRailPressureA', 'commanded rail pressure A'],
    ['pressureA', 'RailPressureA', 'rail pressure A'],
    ['commandedB', 'CommandedRailPressureB', 'commanded rail pressure B'],
    ['pressureB', 'RailPressureB', 'rail pressure B'],
  ]);
  ab('6D', 'FuelPressureControl', 'fuel pressure control', 'celsius', [
    ['temperatureA', 'RailTemperatureA', 'rail temperature A'],
    ['temperatureB', 'RailTemperatureB', 'rail temperature B'],
  ]);
  ab('6E', 'InjectionPressureControl', 'injection control pressure', 'kPa', [
    ['commandedA', 'CommandedA', 'commanded A'],
    ['pressureA', 'PressureA', 'A'],
    ['commandedB', 'CommandedB', 'commanded B'],
    ['pressureB', 'PressureB', 'B'],
  ]);
  ab('70', 'BoostPressureControl', 'boost pressure', 'kPa', [
    ['commandedA', 'CommandedA', 'commanded A'],
    ['pressureA', 'PressureA', 'sensor A'],
    ['commandedB', 'CommandedB', 'commanded B'],
    ['pressureB', 'PressureB', 'sensor B'],
  ]);
  add(
    'BoostPressureControl.StatusA',
    '',
    'string',
    'PID 70 - boost control A loop (OPEN_LOOP, CLOSED_LOOP, FAULT)',
    '01:70/statusA',
  );
  add(
    'BoostPressureControl.StatusB',
    '',
    'string',
    'PID 70 - boost control B loop (OPEN_LOOP, CLOSED_LOOP, FAULT)',
    '01:70/statusB',
  );
  ab('71', 'VGTControl', 'variable geometry turbo position', 'percent', controlAB);
  add(
    'VGTControl.StatusA',
    '',
    'string',
    'PID 71 - VGT A control loop (OPEN_LOOP, CLOSED_LOOP, FAULT)',
    '01:71/statusA',
  );
  add(
    'VGTControl.StatusB',
    '',
    'string',
    'PID 71 - VGT B control loop (OPEN_LOOP, CLOSED_LOOP, FAULT)',
    '01:71/statusB',
  );
  ab('72', 'WastegateControl', 'wastegate position', 'percent', controlAB);
  ab('74', 'Turbocharger', 'turbocharger speed', 'rpm', [
    ['a', 'SpeedA', 'A'],
    ['b', 'SpeedB', 'B'],
  ]);
  for (const [pid, t] of [
    ['75', 'A'],
    ['76', 'B'],
  ] as const) {
    ab(pid, `Turbocharger.Temperature${t}`, `turbocharger ${t} temperature`, 'celsius', [
      ['compressorInlet', 'CompressorInlet', 'compressor inlet'],
      ['compressorOutlet', 'CompressorOutlet', 'compressor outlet'],
      ['turbineInlet', 'TurbineInlet', 'turbine inlet'],
      ['turbineOutlet', 'TurbineOutlet', 'turbine outlet'],
    ]);
  }
  ab('77', 'ChargeAirCoolerTemperature', 'charge air cooler temperature', 'celsius', banks);
  for (const [pid, bank] of [
    ['7A', 1],
    ['7B', 2],
  ] as const) {
    ab(pid, `DPF.Bank${bank}`, `DPF bank ${bank}`, 'kPa', [
      ['delta', 'DeltaPressure', 'delta pressure (signed)'],
      ['inlet', 'InletPressure', 'inlet pressure'],
      ['outlet', 'OutletPressure', 'outlet pressure'],
    ]);
  }
  ab('7C', 'DPF', 'DPF temperature', 'celsius', [
    ['b1Inlet', 'Bank1.InletTemperature', 'bank 1 inlet'],
    ['b1Outlet', 'Bank1.OutletTemperature', 'bank 1 outlet'],
    ['b2Inlet', 'Bank2.InletTemperature', 'bank 2 inlet'],
    ['b2Outlet', 'Bank2.OutletTemperature', 'bank 2 outlet'],
  ]);
  for (const [pid, what] of [
    ['7D', 'NOx'],
    ['7E', 'PM'],
  ] as const) {
    const b = `${what}NTE`;
    add(
      `${b}.IsInsideControlArea`,
      '',
      'boolean',
      `PID ${pid} - inside the ${what} not-to-exceed control area`,
      `01:${pid}/inside`,
    );
    add(
      `${b}.IsOutsideControlArea`,
      '',
      'boolean',
      `PID ${pid} - outside the ${what} not-to-exceed control area`,
      `01:${pid}/outside`,
    );
    add(
      `${b}.IsInsideCarveOutArea`,
      '',
      'boolean',
      `PID ${pid} - inside the manufacturer's ${what} NTE carve-out area`,
      `01:${pid}/carveOut`,
    );
    add(
      `${b}.IsDeficiencyActive`,
      '',
      'boolean',
      `PID ${pid} - ${what} NTE deficiency active`,
      `01:${pid}/deficiency`,
    );
  }
  for (const [pid, first] of [
    ['81', 1],
    ['82', 6],
    ['89', 11],
    ['8A', 16],
  ] as const) {
    for (let n = first; n < first + 5; n++) {
      add(
        `AECD.Device${n}.Timer1`,
        's',
        'uint32',
        `PID ${pid} - run time with emission-increasing AECD #${n} active, timer 1`,
        `01:${pid}/aecd${n}t1`,
      );
      add(
        `AECD.Device${n}.Timer2`,
        's',
        'uint32',
        `PID ${pid} - run time with emission-increasing AECD #${n} active, timer 2`,
        `01:${pid}/aecd${n}t2`,
      );
    }
  }
  ab('83', 'NOxSensor', 'NOx concentration', 'ppm', banks);
  add(
    'NOxReagent.AverageConsumption',
    'l/h',
    'float',
    'PID 85 - average reagent consumption',
    '01:85/consumption',
  );
  add(
    'NOxReagent.AverageDemandedConsumption',
    'l/h',
    'float',
    'PID 85 - average demanded reagent consumption',
    '01:85/demand',
  );
  add('NOxReagent.TankLevel', 'percent', 'float', 'PID 85 - reagent tank level', '01:85/level');
  add(
    'NOxReagent.TimeWithNOxWarning',
    's',
    'uint32',
    'PID 85 - run time with the NOx warning indicator active',
    '01:85/warningTime',
  );
  ab('86', 'PMSensor', 'particulate matter concentration', 'mg/m^3', [
    ['b1s1', 'Bank1Sensor1', 'bank 1 sensor 1'],
    ['b2s1', 'Bank2Sensor1', 'bank 2 sensor 1'],
  ]);
  add(
    'SCRInducement.IsReagentLevelLow',
    '',
    'boolean',
    'PID 88 - inducement: reagent level too low',
    '01:88/reagentLow',
  );
  add(
    'SCRInducement.IsReagentIncorrect',
    '',
    'boolean',
    'PID 88 - inducement: incorrect reagent',
    '01:88/reagentIncorrect',
  );
  add(
    'SCRInducement.IsConsumptionDeviating',
    '',
    'boolean',
    'PID 88 - inducement: deviation of reagent consumption',
    '01:88/consumptionDeviation',
  );
  add(
    'SCRInducement.IsNOxTooHigh',
    '',
    'boolean',
    'PID 88 - inducement: NOx emissions too high',
    '01:88/noxTooHigh',
  );
  add('SCRInducement.IsActive', '', 'boolean', 'PID 88 - inducement system active', '01:88/active');
  add(
    'SCRInducement.DistanceWithInducement',
    'km',
    'uint16',
    'PID 88 - distance with inducement active, current 10,000 km block',
    '01:88/inducementDistance',
  );
  add(
    'SCRInducement.DistanceInBlock',
    'km',
    'uint16',
    'PID 88 - distance travelled in the current 10,000 km block',
    '01:88/blockDistance',
  );
  for (const n of [2, 3, 4] as const) {
    add(
      `SCRInducement.DistanceWithInducementBlock${n}`,
      'km',
      'uint16',
      `PID 88 - distance with inducement active, 10,000 km block ${n} (${(n - 1) * 10}-${n * 10} thousand km)`,
      `01:88/inducementDistance${n}`,
    );
  }
  add(
    'DieselAftertreatment.IsDPFRegenerating',
    '',
    'boolean',
    'PID 8B - DPF regeneration in progress',
    '01:8B/dpfRegenerating',
  );
  add(
    'DieselAftertreatment.IsDPFRegenerationActive',
    '',
    'boolean',
    'PID 8B - DPF regeneration is active (false: passive)',
    '01:8B/dpfActiveRegeneration',
  );
  add(
    'DieselAftertreatment.IsNOxAdsorberRegenerating',
    '',
    'boolean',
    'PID 8B - NOx adsorber regeneration in progress',
    '01:8B/noxAdsorberRegenerating',
  );
  add(
    'DieselAftertreatment.IsNOxAdsorberDesulfurizing',
    '',
    'boolean',
    'PID 8B - NOx adsorber desulfurization in progress',
    '01:8B/noxAdsorberDesulfurizing',
  );
  add(
    'DieselAftertreatment.DPFRegenerationTrigger',
    'percent',
    'float',
    'PID 8B - normalized trigger for DPF regeneration',
    '01:8B/dpfTrigger',
  );
  add(
    'DieselAftertreatment.AverageTimeBetweenRegenerations',
    's',
    'uint16',
    'PID 8B - average time between DPF regenerations',
    '01:8B/regenerationInterval',
  );
  add(
    'DieselAftertreatment.AverageDistanceBetweenRegenerations',
    'km',
    'uint16',
    'PID 8B - average distance between DPF regenerations',
    '01:8B/regenerationDistance',
  );
  for (const [pid, sensors] of [
    [
      '8C',
      [
        ['b1s1', 'Bank1Sensor1'],
        ['b1s2', 'Bank1Sensor2'],
        ['b2s1', 'Bank2Sensor1'],
        ['b2s2', 'Bank2Sensor2'],
      ],
    ],
    [
      '9C',
      [
        ['b1s3', 'Bank1Sensor3'],
        ['b1s4', 'Bank1Sensor4'],
        ['b2s3', 'Bank2Sensor3'],
        ['b2s4', 'Bank2Sensor4'],
      ],
    ],
  ] as const) {
    for (const [field, leaf] of sensors) {
      add(
        `WideRangeO2.${leaf}.Concentration`,
        'percent',
        'float',
        `PID ${pid} - wide range O2 sensor concentration, ${leaf}`,
        `01:${pid}/${field}Percent`,
      );
      add(
        `WideRangeO2.${leaf}.Lambda`,
        'ratio',
        'float',
        `PID ${pid} - wide range O2 sensor lambda, ${leaf}`,
        `01:${pid}/${field}Lambda`,
      );
    }
  }
  for (const bank of [1, 2] as const) {
    add(
      `PMSensor.Bank${bank}.IsActive`,
      '',
      'boolean',
      `PID 8F - PM sensor bank ${bank} measuring`,
      `01:8F/b${bank}Active`,
    );
    add(
      `PMSensor.Bank${bank}.IsRegenerating`,
      '',
      'boolean',
      `PID 8F - PM sensor bank ${bank} regenerating`,
      `01:8F/b${bank}Regenerating`,
    );
    add(
      `PMSensor.Bank${bank}.Output`,
      'percent',
      'float',
      `PID 8F - PM sensor bank ${bank} normalized output`,
      `01:8F/b${bank}Output`,
    );
  }
  add(
    'WWHOBD.MILState',
    '',
    'string',
    'PID 90 - WWH-OBD malfunction indicator state (OFF, ON_DEMAND, SHORT, CONTINUOUS)',
    '01:90/milState',
  );
  add(
    'WWHOBD.MILOnHours',
    'h',
    'uint16',
    'PID 90 - WWH-OBD hours run with the malfunction indicator on',
    '01:90/milHours',
  );
  add(
    'WWHOBD.ECUMILState',
    '',
    'string',
    "PID 91 - this ECU's malfunction indicator state",
    '01:91/ecuMilState',
  );
  add(
    'WWHOBD.ECUMILOnHours',
    'h',
    'uint16',
    "PID 91 - this ECU's hours with the malfunction indicator on",
    '01:91/ecuMilHours',
  );
  add(
    'WWHOBD.ECUMILOnHoursMax',
    'h',
    'uint16',
    "PID 91 - this ECU's highest hours with the malfunction indicator on",
    '01:91/ecuMilHoursMax',
  );
  add(
    'WWHOBD.ContinuousMILHours',
    'h',
    'uint16',
    'PID 93 - cumulative continuous malfunction indicator counter',
    '01:93/continuousMilHours',
  );
  for (const [field, leaf, text] of [
    ['pressure1', 'IsPressure1ClosedLoop', 'fuel pressure control 1'],
    ['quantity1', 'IsQuantity1ClosedLoop', 'injection quantity control 1'],
    ['timing1', 'IsTiming1ClosedLoop', 'injection timing control 1'],
    ['balance1', 'IsBalance1ClosedLoop', 'idle fuel balance / contribution control 1'],
    ['pressure2', 'IsPressure2ClosedLoop', 'fuel pressure control 2'],
    ['quantity2', 'IsQuantity2ClosedLoop', 'injection quantity control 2'],
    ['timing2', 'IsTiming2ClosedLoop', 'injection timing control 2'],
    ['balance2', 'IsBalance2ClosedLoop', 'idle fuel balance / contribution control 2'],
  ] as const) {
    add(
      `FuelSystemControl.${leaf}`,
      '',
      'boolean',
      `PID 92 - ${text} in closed loop`,
      `01:92/${field}`,
    );
  }
  add('NOxWarning.IsActive', '', 'boolean', 'PID 94 - NOx warning system active', '01:94/warning');
  for (const n of [1, 2, 3] as const) {
    add(
      `NOxWarning.Level${n}Inducement`,
      '',
      'string',
      `PID 94 - level ${n} inducement (INACTIVE, ENABLED, ACTIVE, NOT_AVAILABLE)`,
      `01:94/level${n}`,
    );
  }
  for (const [field, leaf, text] of [
    ['reagentQualityHours', 'ReagentQualityHours', 'reagent quality'],
    ['reagentConsumptionHours', 'ReagentConsumptionHours', 'reagent consumption'],
    ['dosingHours', 'DosingActivityHours', 'dosing activity'],
    ['egrValveHours', 'EGRValveHours', 'EGR valve'],
    ['monitoringHours', 'MonitoringSystemHours', 'monitoring system'],
  ] as const) {
    add(`NOxWarning.${leaf}`, 'h', 'uint16', `PID 94 - ${text} counter`, `01:94/${field}`);
  }
  for (const [pid, bank] of [
    ['98', 1],
    ['99', 2],
  ] as const) {
    for (let n = 5; n <= 8; n++) {
      add(
        `ExhaustGasTemperatureB${bank}S${n}`,
        'celsius',
        'float',
        `PID ${pid} - exhaust gas temperature bank ${bank} sensor ${n}`,
        `01:${pid}/s${n}`,
      );
    }
  }
  add(
    'HybridBattery.ChargingState',
    '',
    'uint8',
    'PID 9A - hybrid/EV charging state code',
    '01:9A/chargingState',
  );
  add(
    'HybridBattery.Voltage',
    'V',
    'float',
    'PID 9A - hybrid/EV battery pack voltage',
    '01:9A/voltage',
  );
  add(
    'HybridBattery.Current',
    'A',
    'float',
    'PID 9A - hybrid/EV battery pack current, positive discharging',
    '01:9A/current',
  );
  add('DEF.Type', '', 'uint8', 'PID 9B - diesel exhaust fluid type code', '01:9B/type');
  add(
    'DEF.Concentration',
    'percent',
    'float',
    'PID 9B - diesel exhaust fluid concentration',
    '01:9B/concentration',
  );
  add(
    'DEF.TankTemperature',
    'celsius',
    'float',
    'PID 9B - diesel exhaust fluid tank temperature',
    '01:9B/temperature',
  );
  add(
    'DEF.TankLevel',
    'percent',
    'float',
    'PID 9B - diesel exhaust fluid tank level',
    '01:9B/level',
  );
  ab('A1', 'NOxSensorCorrected', 'corrected NOx concentration', 'ppm', banks);
  add('IsABSDisabled', '', 'boolean', 'PID A9 - ABS disable switch on', '01:A9');
  add('IsEngineIdleRequested', '', 'boolean', 'PID C4 - engine idle request', '01:C4/idleRequest');
  add('IsEngineStopRequested', '', 'boolean', 'PID C4 - engine stop request', '01:C4/stopRequest');
  return rows;
}

// prettier-ignore
const ROWS: readonly Row[] = [
  // Headline signals, main VSS tree.
  ['Vehicle.Speed', 'km/h', 'float', 'Vehicle speed (J1979 PID 0D, or the vehicle CAN bus)', '01:0D'],
  ['Vehicle.Powertrain.CombustionEngine.Speed', 'rpm', 'uint16', 'Engine speed (J1979 PID 0C)', '01:0C'],
  ['Vehicle.Powertrain.CombustionEngine.ECT', 'celsius', 'int16', 'Engine coolant temperature (J1979 PID 05)', '01:05'],
  ['Vehicle.Powertrain.FuelSystem.RelativeLevel', 'percent', 'uint8', 'Fuel tank level (J1979 PID 2F)', '01:2F'],
  ['Vehicle.TraveledDistance', 'km', 'float', 'Odometer reading (J1979 PID A6)', '01:A6'],
  ['Vehicle.Exterior.AirTemperature', 'celsius', 'float', 'Ambient air temperature (J1979 PID 46)', '01:46'],
  ['Vehicle.Powertrain.Transmission.CurrentGear', '', 'int8', 'Gear the transmission is in (J1979 PID A4; CAN bus)', '01:A4/gear'],
  ['Vehicle.Powertrain.Transmission.SelectedGear', '', 'int8', 'Gear selected by the driver (CAN bus)'],
  ['Vehicle.LowVoltageBattery.CurrentVoltage', 'V', 'float', '12 V battery voltage at the OBD connector (ELM327 ATRV)', 'ATRV'],
  ['Vehicle.VehicleIdentification.VIN', '', 'string', 'Vehicle identification number (J1979 mode 09 info type 02)', '09:02'],
  ['Vehicle.Chassis.SteeringWheel.Angle', 'degrees', 'int16', 'Steering wheel angle, positive left (CAN bus)'],
  ['Vehicle.Chassis.Accelerator.PedalPosition', 'percent', 'uint8', 'Accelerator pedal position (CAN bus)'],
  ['Vehicle.ADAS.CruiseControl.SpeedSet', 'km/h', 'float', 'Cruise control set speed (CAN bus)'],
  ['Vehicle.IsMoving', '', 'boolean', 'Whether the vehicle is moving'],
  // Motion (IMU) and position (GNSS).
  ['Vehicle.Acceleration.Longitudinal', 'm/s^2', 'float', 'Longitudinal acceleration, positive forward'],
  ['Vehicle.Acceleration.Lateral', 'm/s^2', 'float', 'Lateral acceleration, positive left'],
  ['Vehicle.Acceleration.Vertical', 'm/s^2', 'float', 'Vertical acceleration, positive up'],
  ['Vehicle.AngularVelocity.Yaw', 'degrees/s', 'float', 'Yaw rate, positive counter-clockwise seen from above'],
  ['Vehicle.CurrentLocation.Latitude', 'degrees', 'double', 'Latitude (WGS 84), positive north'],
  ['Vehicle.CurrentLocation.Longitude', 'degrees', 'double', 'Longitude (WGS 84), positive east'],
  ['Vehicle.CurrentLocation.Altitude', 'm', 'double', 'Altitude above the WGS 84 ellipsoid'],
  ['Vehicle.CurrentLocation.Heading', 'degrees', 'double', 'Course over ground from true north'],
  ['Vehicle.CurrentLocation.Speed', 'km/h', 'float', 'GNSS speed over ground, an independent witness of Vehicle.Speed', undefined, 'overlay'],
  ['Vehicle.CurrentLocation.GNSSReceiver.FixQuality', '', 'string', 'GGA fix quality (INVALID, GPS, DGPS, RTK_FIXED, ...)', undefined, 'overlay'],
  // Diagnostic trouble codes (modes 03, 07, 0A) and mode 09 identification.
  ['Vehicle.OBD.DTCList', '', 'string[]', 'Stored (confirmed) DTCs, mode 03', '03'],
  ['Vehicle.OBD.PendingDTCList', '', 'string[]', 'Pending DTCs, mode 07', '07', 'overlay'],
  ['Vehicle.OBD.PermanentDTCList', '', 'string[]', 'Permanent DTCs, mode 0A', '0A', 'overlay'],
  ['Vehicle.OBD.CalibrationIDs', '', 'string[]', 'Calibration IDs, mode 09 info type 04', '09:04', 'overlay'],
  // Mode 01, VSS OBD branch.
  ['Vehicle.OBD.Status.IsMILOn', '', 'boolean', 'PID 01 - malfunction indicator lamp on', '01:01/mil'],
  ['Vehicle.OBD.Status.DTCCount', '', 'uint8', 'PID 01 - number of confirmed emissions DTCs', '01:01/dtcCount'],
  ['Vehicle.OBD.Status.IgnitionType', '', 'string', 'PID 01 - SPARK or COMPRESSION ignition monitors', '01:01/ignition'],
  ['Vehicle.OBD.FreezeDTC', '', 'string', 'PID 02 - DTC that caused the freeze frame', '01:02'],
  ['Vehicle.OBD.FuelStatus', '', 'string', 'PID 03 - fuel system 1 status (OL, CL, OL_DRIVE, OL_FAULT, CL_FAULT)', '01:03/system1'],
  ['Vehicle.OBD.FuelStatusSystem2', '', 'string', 'PID 03 - fuel system 2 status', '01:03/system2', 'overlay'],
  ['Vehicle.OBD.EngineLoad', 'percent', 'float', 'PID 04 - calculated engine load', '01:04'],
  ['Vehicle.OBD.ShortTermFuelTrim1', 'percent', 'float', 'PID 06 - short term fuel trim, bank 1', '01:06'],
  ['Vehicle.OBD.LongTermFuelTrim1', 'percent', 'float', 'PID 07 - long term fuel trim, bank 1', '01:07'],
  ['Vehicle.OBD.ShortTermFuelTrim2', 'percent', 'float', 'PID 08 - short term fuel trim, bank 2', '01:08'],
  ['Vehicle.OBD.LongTermFuelTrim2', 'percent', 'float', 'PID 09 - long term fuel trim, bank 2', '01:09'],
  ['Vehicle.OBD.FuelPressure', 'kPa', 'float', 'PID 0A - fuel pressure (gauge)', '01:0A'],
  ['Vehicle.OBD.MAP', 'kPa', 'float', 'PID 0B - intake manifold absolute pressure', '01:0B'],
  ['Vehicle.OBD.TimingAdvance', 'degrees', 'float', 'PID 0E - timing advance before TDC', '01:0E'],
  ['Vehicle.OBD.IntakeTemp', 'celsius', 'float', 'PID 0F - intake air temperature', '01:0F'],
  ['Vehicle.OBD.MAF', 'g/s', 'float', 'PID 10 - mass air flow rate', '01:10'],
  ['Vehicle.OBD.ThrottlePosition', 'percent', 'float', 'PID 11 - absolute throttle position', '01:11'],
  ['Vehicle.OBD.AirStatus', '', 'string', 'PID 12 - commanded secondary air status (UPSTREAM, DOWNSTREAM, OUTSIDE_OR_OFF, PUMP_DIAGNOSTICS)', '01:12'],
  ['Vehicle.OBD.OxygenSensorsIn2Banks', '', 'uint8', 'PID 13 - O2 sensors present (2 banks), bit mask', '01:13'],
  ...o2Rows(),
  ['Vehicle.OBD.OBDStandards', '', 'uint8', 'PID 1C - OBD standard the vehicle conforms to (see OBD_STANDARDS)', '01:1C'],
  ['Vehicle.OBD.OxygenSensorsIn4Banks', '', 'uint8', 'PID 1D - O2 sensors present (4 banks), bit mask', '01:1D'],
  ['Vehicle.OBD.IsPTOActive', '', 'boolean', 'PID 1E - power take-off active', '01:1E'],
  ['Vehicle.OBD.RunTime', 's', 'float', 'PID 1F - engine run time since start', '01:1F'],
  ['Vehicle.OBD.DistanceWithMIL', 'km', 'float', 'PID 21 - distance travelled with MIL on', '01:21'],
  ['Vehicle.OBD.FuelRailPressureVac', 'kPa', 'float', 'PID 22 - fuel rail pressure relative to manifold vacuum', '01:22'],
  ['Vehicle.OBD.FuelRailPressureDirect', 'kPa', 'float', 'PID 23 - fuel rail gauge pressure (diesel or direct injection)', '01:23'],
  ['Vehicle.OBD.CommandedEGR', 'percent', 'float', 'PID 2C - commanded EGR', '01:2C'],
  ['Vehicle.OBD.EGRError', 'percent', 'float', 'PID 2D - EGR error', '01:2D'],
  ['Vehicle.OBD.CommandedEVAP', 'percent', 'float', 'PID 2E - commanded evaporative purge', '01:2E'],
  ['Vehicle.OBD.WarmupsSinceDTCClear', '', 'uint8', 'PID 30 - warm-ups since codes cleared', '01:30'],
  ['Vehicle.OBD.DistanceSinceDTCClear', 'km', 'float', 'PID 31 - distance since codes cleared', '01:31'],
  ['Vehicle.OBD.EVAPVaporPressure', 'Pa', 'float', 'PID 32 - evap system vapor pressure', '01:32'],
  ['Vehicle.OBD.BarometricPressure', 'kPa', 'float', 'PID 33 - absolute barometric pressure', '01:33'],
  ['Vehicle.OBD.Catalyst.Bank1.Temperature1', 'celsius', 'float', 'PID 3C - catalyst temperature bank 1 sensor 1', '01:3C'],
  ['Vehicle.OBD.Catalyst.Bank2.Temperature1', 'celsius', 'float', 'PID 3D - catalyst temperature bank 2 sensor 1', '01:3D'],
  ['Vehicle.OBD.Catalyst.Bank1.Temperature2', 'celsius', 'float', 'PID 3E - catalyst temperature bank 1 sensor 2', '01:3E'],
  ['Vehicle.OBD.Catalyst.Bank2.Temperature2', 'celsius', 'float', 'PID 3F - catalyst temperature bank 2 sensor 2', '01:3F'],
  ['Vehicle.OBD.DriveCycleStatus.IgnitionType', '', 'string', 'PID 41 - SPARK or COMPRESSION monitors this drive cycle', '01:41/ignition'],
  ['Vehicle.OBD.ControlModuleVoltage', 'V', 'float', 'PID 42 - control module voltage', '01:42'],
  ['Vehicle.OBD.AbsoluteLoad', 'percent', 'float', 'PID 43 - absolute load value', '01:43'],
  ['Vehicle.OBD.CommandedEquivalenceRatio', 'ratio', 'float', 'PID 44 - commanded air-fuel equivalence ratio (lambda)', '01:44'],
  ['Vehicle.OBD.RelativeThrottlePosition', 'percent', 'float', 'PID 45 - relative throttle position', '01:45'],
  ['Vehicle.OBD.ThrottlePositionB', 'percent', 'float', 'PID 47 - absolute throttle position B', '01:47'],
  ['Vehicle.OBD.ThrottlePositionC', 'percent', 'float', 'PID 48 - absolute throttle position C', '01:48'],
  ['Vehicle.OBD.AcceleratorPositionD', 'percent', 'float', 'PID 49 - accelerator pedal position D', '01:49'],
  ['Vehicle.OBD.AcceleratorPositionE', 'percent', 'float', 'PID 4A - accelerator pedal position E', '01:4A'],
  ['Vehicle.OBD.AcceleratorPositionF', 'percent', 'float', 'PID 4B - accelerator pedal position F', '01:4B'],
  ['Vehicle.OBD.ThrottleActuator', 'percent', 'float', 'PID 4C - commanded throttle actuator', '01:4C'],
  ['Vehicle.OBD.RunTimeMIL', 'min', 'float', 'PID 4D - time run with MIL on', '01:4D'],
  ['Vehicle.OBD.TimeSinceDTCCleared', 'min', 'float', 'PID 4E - time since trouble codes cleared', '01:4E'],
  ['Vehicle.OBD.MaxEquivalenceRatio', 'ratio', 'float', 'PID 4F - scaling maximum of the equivalence ratio', '01:4F/ratio', 'overlay'],
  ['Vehicle.OBD.MaxO2SensorVoltage', 'V', 'float', 'PID 4F - scaling maximum of O2 sensor voltage', '01:4F/voltage', 'overlay'],
  ['Vehicle.OBD.MaxO2SensorCurrent', 'mA', 'float', 'PID 4F - scaling maximum of O2 sensor current', '01:4F/current', 'overlay'],
  ['Vehicle.OBD.MaxMAP', 'kPa', 'float', 'PID 4F - scaling maximum of intake manifold absolute pressure', '01:4F/map', 'overlay'],
  ['Vehicle.OBD.MaxMAF', 'g/s', 'float', 'PID 50 - maximum value for the mass air flow sensor', '01:50'],
  ['Vehicle.OBD.FuelType', '', 'string', 'PID 51 - fuel type (see FUEL_TYPES)', '01:51'],
  ['Vehicle.OBD.EthanolPercent', 'percent', 'float', 'PID 52 - ethanol fuel percentage', '01:52'],
  ['Vehicle.OBD.EVAPVaporPressureAbsolute', 'kPa', 'float', 'PID 53 - absolute evap system vapor pressure', '01:53'],
  ['Vehicle.OBD.EVAPVaporPressureAlternate', 'Pa', 'float', 'PID 54 - evap system vapor pressure (wide range)', '01:54'],
  ['Vehicle.OBD.ShortTermO2Trim1', 'percent', 'float', 'PID 55 - short term secondary O2 trim, bank 1', '01:55/a'],
  ['Vehicle.OBD.ShortTermO2Trim3', 'percent', 'float', 'PID 55 - short term secondary O2 trim, bank 3', '01:55/b'],
  ['Vehicle.OBD.LongTermO2Trim1', 'percent', 'float', 'PID 56 - long term secondary O2 trim, bank 1', '01:56/a'],
  ['Vehicle.OBD.LongTermO2Trim3', 'percent', 'float', 'PID 56 - long term secondary O2 trim, bank 3', '01:56/b'],
  ['Vehicle.OBD.ShortTermO2Trim2', 'percent', 'float', 'PID 57 - short term secondary O2 trim, bank 2', '01:57/a'],
  ['Vehicle.OBD.ShortTermO2Trim4', 'percent', 'float', 'PID 57 - short term secondary O2 trim, bank 4', '01:57/b'],
  ['Vehicle.OBD.LongTermO2Trim2', 'percent', 'float', 'PID 58 - long term secondary O2 trim, bank 2', '01:58/a'],
  ['Vehicle.OBD.LongTermO2Trim4', 'percent', 'float', 'PID 58 - long term secondary O2 trim, bank 4', '01:58/b'],
  ['Vehicle.OBD.FuelRailPressureAbsolute', 'kPa', 'float', 'PID 59 - absolute fuel rail pressure', '01:59'],
  ['Vehicle.OBD.RelativeAcceleratorPosition', 'percent', 'float', 'PID 5A - relative accelerator pedal position', '01:5A'],
  ['Vehicle.OBD.HybridBatteryRemaining', 'percent', 'float', 'PID 5B - hybrid battery pack remaining life', '01:5B'],
  ['Vehicle.OBD.OilTemperature', 'celsius', 'float', 'PID 5C - engine oil temperature', '01:5C'],
  ['Vehicle.OBD.FuelInjectionTiming', 'degrees', 'float', 'PID 5D - fuel injection timing', '01:5D'],
  ['Vehicle.OBD.FuelRate', 'l/h', 'float', 'PID 5E - engine fuel rate', '01:5E'],
  ['Vehicle.OBD.EmissionRequirements', '', 'uint8', 'PID 5F - emission requirements the vehicle is designed to, raw bit field', '01:5F', 'overlay'],
  // J1979 PIDs after 5F: no VSS paths, enginechain overlay under Vehicle.OBD.
  ['Vehicle.OBD.DriverDemandEngineTorque', 'percent', 'float', 'PID 61 - driver demand engine percent torque', '01:61', 'overlay'],
  ['Vehicle.OBD.ActualEngineTorque', 'percent', 'float', 'PID 62 - actual engine percent torque', '01:62', 'overlay'],
  ['Vehicle.OBD.EngineReferenceTorque', 'Nm', 'float', 'PID 63 - engine reference torque', '01:63', 'overlay'],
  ['Vehicle.OBD.EngineTorqueIdle', 'percent', 'float', 'PID 64 - engine percent torque at idle', '01:64/idle', 'overlay'],
  ['Vehicle.OBD.EngineTorquePoint1', 'percent', 'float', 'PID 64 - engine percent torque at point 1', '01:64/point1', 'overlay'],
  ['Vehicle.OBD.EngineTorquePoint2', 'percent', 'float', 'PID 64 - engine percent torque at point 2', '01:64/point2', 'overlay'],
  ['Vehicle.OBD.EngineTorquePoint3', 'percent', 'float', 'PID 64 - engine percent torque at point 3', '01:64/point3', 'overlay'],
  ['Vehicle.OBD.EngineTorquePoint4', 'percent', 'float', 'PID 64 - engine percent torque at point 4', '01:64/point4', 'overlay'],
  ['Vehicle.OBD.MAFSensorA', 'g/s', 'float', 'PID 66 - mass air flow sensor A', '01:66/a', 'overlay'],
  ['Vehicle.OBD.MAFSensorB', 'g/s', 'float', 'PID 66 - mass air flow sensor B', '01:66/b', 'overlay'],
  ['Vehicle.OBD.CoolantTemperatureSensor1', 'celsius', 'float', 'PID 67 - engine coolant temperature sensor 1', '01:67/a', 'overlay'],
  ['Vehicle.OBD.CoolantTemperatureSensor2', 'celsius', 'float', 'PID 67 - engine coolant temperature sensor 2', '01:67/b', 'overlay'],
  ['Vehicle.OBD.IntakeTempSensor1', 'celsius', 'float', 'PID 68 - intake air temperature bank 1 sensor 1', '01:68/a', 'overlay'],
  ['Vehicle.OBD.IntakeTempSensor2', 'celsius', 'float', 'PID 68 - intake air temperature bank 1 sensor 2', '01:68/b', 'overlay'],
  ['Vehicle.OBD.IntakeTempBank1Sensor3', 'celsius', 'float', 'PID 68 - intake air temperature bank 1 sensor 3', '01:68/b1s3', 'overlay'],
  ['Vehicle.OBD.IntakeTempBank2Sensor1', 'celsius', 'float', 'PID 68 - intake air temperature bank 2 sensor 1', '01:68/b2s1', 'overlay'],
  ['Vehicle.OBD.IntakeTempBank2Sensor2', 'celsius', 'float', 'PID 68 - intake air temperature bank 2 sensor 2', '01:68/b2s2', 'overlay'],
  ['Vehicle.OBD.IntakeTempBank2Sensor3', 'celsius', 'float', 'PID 68 - intake air temperature bank 2 sensor 3', '01:68/b2s3', 'overlay'],
  ['Vehicle.OBD.CommandedEGRA', 'percent', 'float', 'PID 69 - commanded EGR A duty cycle', '01:69/commandedA', 'overlay'],
  ['Vehicle.OBD.ActualEGRA', 'percent', 'float', 'PID 69 - actual EGR A duty cycle', '01:69/actualA', 'overlay'],
  ['Vehicle.OBD.EGRAError', 'percent', 'float', 'PID 69 - EGR A error', '01:69/errorA', 'overlay'],
  ['Vehicle.OBD.CommandedEGRB', 'percent', 'float', 'PID 69 - commanded EGR B duty cycle', '01:69/commandedB', 'overlay'],
  ['Vehicle.OBD.ActualEGRB', 'percent', 'float', 'PID 69 - actual EGR B duty cycle', '01:69/actualB', 'overlay'],
  ['Vehicle.OBD.EGRBError', 'percent', 'float', 'PID 69 - EGR B error', '01:69/errorB', 'overlay'],
  ['Vehicle.OBD.TurboInletPressureA', 'kPa', 'float', 'PID 6F - turbocharger compressor inlet pressure A', '01:6F/a', 'overlay'],
  ['Vehicle.OBD.TurboInletPressureB', 'kPa', 'float', 'PID 6F - turbocharger compressor inlet pressure B', '01:6F/b', 'overlay'],
  ['Vehicle.OBD.ExhaustPressureB1', 'kPa', 'float', 'PID 73 - exhaust pressure, bank 1', '01:73/a', 'overlay'],
  ['Vehicle.OBD.ExhaustPressureB2', 'kPa', 'float', 'PID 73 - exhaust pressure, bank 2', '01:73/b', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB1S1', 'celsius', 'float', 'PID 78 - exhaust gas temperature bank 1 sensor 1', '01:78/s1', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB1S2', 'celsius', 'float', 'PID 78 - exhaust gas temperature bank 1 sensor 2', '01:78/s2', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB1S3', 'celsius', 'float', 'PID 78 - exhaust gas temperature bank 1 sensor 3', '01:78/s3', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB1S4', 'celsius', 'float', 'PID 78 - exhaust gas temperature bank 1 sensor 4', '01:78/s4', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB2S1', 'celsius', 'float', 'PID 79 - exhaust gas temperature bank 2 sensor 1', '01:79/s1', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB2S2', 'celsius', 'float', 'PID 79 - exhaust gas temperature bank 2 sensor 2', '01:79/s2', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB2S3', 'celsius', 'float', 'PID 79 - exhaust gas temperature bank 2 sensor 3', '01:79/s3', 'overlay'],
  ['Vehicle.OBD.ExhaustGasTemperatureB2S4', 'celsius', 'float', 'PID 79 - exhaust gas temperature bank 2 sensor 4', '01:79/s4', 'overlay'],
  ['Vehicle.OBD.EngineRunTimeTotal', 's', 'float', 'PID 7F - total engine run time', '01:7F/total', 'overlay'],
  ['Vehicle.OBD.EngineRunTimeIdle', 's', 'float', 'PID 7F - total idle run time', '01:7F/idle', 'overlay'],
  ['Vehicle.OBD.EngineRunTimePTO', 's', 'float', 'PID 7F - total run time with PTO active', '01:7F/pto', 'overlay'],
  ['Vehicle.OBD.ManifoldSurfaceTemperature', 'celsius', 'float', 'PID 84 - manifold surface temperature', '01:84', 'overlay'],
  ['Vehicle.OBD.IntakeManifoldPressureA', 'kPa', 'float', 'PID 87 - intake manifold absolute pressure A', '01:87/a', 'overlay'],
  ['Vehicle.OBD.IntakeManifoldPressureB', 'kPa', 'float', 'PID 87 - intake manifold absolute pressure B', '01:87/b', 'overlay'],
  ['Vehicle.OBD.ThrottlePositionG', 'percent', 'float', 'PID 8D - absolute throttle position G', '01:8D', 'overlay'],
  ['Vehicle.OBD.EngineFrictionTorque', 'percent', 'float', 'PID 8E - engine friction percent torque', '01:8E', 'overlay'],
  ['Vehicle.OBD.EngineFuelRate', 'g/s', 'float', 'PID 9D - engine fuel rate', '01:9D/engine', 'overlay'],
  ['Vehicle.OBD.VehicleFuelRate', 'g/s', 'float', 'PID 9D - vehicle fuel rate', '01:9D/vehicle', 'overlay'],
  ['Vehicle.OBD.ExhaustFlowRate', 'kg/h', 'float', 'PID 9E - engine exhaust flow rate', '01:9E', 'overlay'],
  ['Vehicle.OBD.CylinderFuelRate', 'mg/stroke', 'float', 'PID A2 - cylinder fuel rate', '01:A2', 'overlay'],
  ['Vehicle.OBD.TransmissionGearRatio', 'ratio', 'float', 'PID A4 - actual transmission gear ratio', '01:A4/ratio', 'overlay'],
  ['Vehicle.OBD.CommandedDEFDosing', 'percent', 'float', 'PID A5 - commanded diesel exhaust fluid dosing', '01:A5', 'overlay'],
  ...laterPidRows(),
];

function build(rows: readonly Row[]): ReadonlyMap<string, SignalInfo> {
  const map = new Map<string, SignalInfo>();
  for (const [name, unit, datatype, description, obd, overlay] of rows) {
    if (map.has(name)) throw new Error(`signal catalogue: duplicate ${name}`);
    const info: SignalInfo = {
      name,
      unit,
      datatype,
      description,
      standard: overlay !== 'overlay',
      ...(obd === undefined ? {} : { obd: Object.freeze(obd.split('|')) }),
    };
    map.set(name, Object.freeze(info));
  }
  return map;
}

const BY_NAME = build(ROWS);
const BY_OBD = new Map<string, SignalInfo>();
for (const info of BY_NAME.values()) {
  for (const key of info.obd ?? []) {
    if (BY_OBD.has(key)) throw new Error(`signal catalogue: duplicate obd key ${key}`);
    BY_OBD.set(key, info);
  }
}

/** Every catalogued signal, in catalogue order. */
export const SIGNAL_CATALOGUE: readonly SignalInfo[] = Object.freeze([...BY_NAME.values()]);

function assertString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${field} must be a string`);
}

/** The catalogue entry for a VSS path, or undefined when enginechain does not emit it. */
export function signalInfo(name: string): SignalInfo | undefined {
  assertString(name, 'name');
  return BY_NAME.get(name);
}

/** The catalogue entry an OBD-II decoder emits under `key` (see `SignalInfo.obd`). */
export function signalForObd(key: string): SignalInfo | undefined {
  assertString(key, 'key');
  return BY_OBD.get(key);
}
