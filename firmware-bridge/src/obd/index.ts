export * from './errors.js';
export {
  MODE01_PIDS,
  OBD_STANDARDS,
  FUEL_TYPES,
  mode01Pid,
  isSupportBitmapPid,
  type Mode01Pid,
  type ObdFieldValue,
} from './pids.js';
export * from './mode01.js';
export * from './dtc.js';
export * from './mode09.js';
export * from './voltage.js';
