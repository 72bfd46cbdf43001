export {
  COSE_SIGN1_TAG,
  COSE_HEADER,
  ES256K,
  ES256,
  coseSigStructure,
  signCoseSign1,
  decodeCoseSign1,
  verifyCoseSign1,
  type CoseAlgorithm,
  type CoseSign1,
  type CoseSign1Input,
  type CoseDecodeOptions,
} from './cose-sign1.js';
