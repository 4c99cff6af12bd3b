import fc from 'fast-check';
import {
  close,
  connectedComponents,
  dilate,
  erode,
  fillHoles,
  open,
  reconstruct,
} from '../../src/segmentation/morphology';

/** A mask from rows of '#' (1) and '.' (0). */
function parse(picture: string[]): { data: Uint8Array; rows: number; columns: number } {
  const rows = picture.length;
  const columns = picture[0]?.length ?? 0;
  const data = new Uint8Array(rows * columns);
  picture.forEach((line, y) => {
    for (let x = 0; x < columns; x++) data[y * columns + x] = line[x] === '#' ? 1 : 0;
  });
  return { data, rows, columns };
}

function show(data: Uint8Array, columns: number): string[] {
  const out: string[] = [];
  for (let y = 0; y * columns < data.length; y++) {
    out.push(
      Array.from(data.subarray(y * columns, (y + 1) * columns), (v) => (v ? '#' : '.')).join(''),
    );
  }
  return out;
}

describe('morphology', () => {
  it('erodes and dilates with a square', () => {
    const m = parse(['.....', '.###.', '.###.', '.###.', '.....']);
    expect(show(erode(m.data, m.rows, m.columns, 1), m.columns)).toEqual([
      '.....',
      '.....',
      '..#..',
      '.....',
      '.....',
    ]);
    expect(show(dilate(m.data, m.rows, m.columns, 1), m.columns)).toEqual([
      '#####',
      '#####',
      '#####',
      '#####',
      '#####',
    ]);
  });

  it('opening removes a speck and a thin line, keeps a block', () => {
    const m = parse([
      '#.........',
      '..........',
      '######....',
      '......###.',
      '......###.',
      '......###.',
    ]);
    expect(show(open(m.data, m.rows, m.columns, 1), m.columns)).toEqual([
      '..........',
      '..........',
      '..........',
      '......###.',
      '......###.',
      '......###.',
    ]);
  });

  it('closing bridges a one-pixel gap and never removes a pixel, even at the edge', () => {
    const m = parse(['##.##', '##.##', '##.##']);
    const closed = close(m.data, m.rows, m.columns, 1);
    expect(show(closed, m.columns)).toEqual(['#####', '#####', '#####']);
    const dot = parse(['...', '.#.', '...']);
    expect(show(close(dot.data, 3, 3, 1), 3)).toEqual(['...', '.#.', '...']);
  });

  it('fills holes but not bays open to the border', () => {
    const m = parse(['#####.', '#...#.', '#.#.#.', '#...#.', '###.#.']);
    expect(show(fillHoles(m.data, m.rows, m.columns), m.columns)).toEqual([
      '#####.',
      '#...#.',
      '#.#.#.',
      '#...#.',
      '###.#.',
    ]);
    const closedRing = parse(['#####', '#...#', '#.#.#', '#...#', '#####']);
    expect(show(fillHoles(closedRing.data, 5, 5), 5)).toEqual([
      '#####',
      '#####',
      '#####',
      '#####',
      '#####',
    ]);
  });

  it('labels 8-connected components in raster order', () => {
    const m = parse(['#..#', '.#..', '...#', '##..']);
    const c = connectedComponents(m.data, m.rows, m.columns);
    expect(c.count).toBe(4);
    expect(Array.from(c.labels)).toEqual([1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 3, 4, 4, 0, 0]);
    expect(c.sizes).toEqual([0, 2, 1, 1, 2]);
  });

  it('reconstructs whole components from seeds', () => {
    const m = parse(['##..#', '##..#', '.....']);
    const seeds = parse(['.....', '.#...', '.....']);
    expect(show(reconstruct(m.data, seeds.data, 3, 5), 5)).toEqual(['##...', '##...', '.....']);
  });

  it('opening is anti-extensive and closing extensive (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 3 }),
        fc.infiniteStream(fc.boolean()),
        (rows, columns, r, bits) => {
          const it = bits[Symbol.iterator]();
          const data = new Uint8Array(rows * columns);
          for (let i = 0; i < data.length; i++) data[i] = it.next().value ? 1 : 0;
          const o = open(data, rows, columns, r);
          const c = close(data, rows, columns, r);
          for (let i = 0; i < data.length; i++) {
            if (o[i] && !data[i]) return false;
            if (data[i] && !c[i]) return false;
          }
          return true;
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('reconstruct', () => {
  it('keeps exactly the components that hold a seed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 1, max: 16 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 9 })),
        (rows, columns, values) => {
          const it = values[Symbol.iterator]();
          const mask = new Uint8Array(rows * columns);
          const seeds = new Uint8Array(rows * columns);
          for (let i = 0; i < mask.length; i++) {
            const v = it.next().value ?? 0;
            mask[i] = v < 5 ? 1 : 0;
            seeds[i] = v === 0 || v === 9 ? 1 : 0;
          }
          const { labels } = connectedComponents(mask, rows, columns);
          const seeded = new Set<number>();
          for (let i = 0; i < mask.length; i++) if (seeds[i] && mask[i]) seeded.add(labels[i] ?? 0);
          const out = reconstruct(mask, seeds, rows, columns);
          return out.every((v, i) => v === (mask[i] && seeded.has(labels[i] ?? 0) ? 1 : 0));
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });
});
