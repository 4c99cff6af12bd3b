import { describeEveryFile } from './every-file-check';

describe('fidelity round trip on every chest CT slice and every MR slice', () => {
  describeEveryFile(['ct/cmb-crc-chest-abdomen/', 'ct/lung-pet-ct-dx/', 'mr/']);
});
