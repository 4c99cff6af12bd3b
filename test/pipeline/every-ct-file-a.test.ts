import { describeEveryFile } from './every-file-check';

describe('fidelity round trip on every whole-body CT slice', () => {
  describeEveryFile(['ct/tcga-thca-whole-body/']);
});
