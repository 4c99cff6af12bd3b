import { readFileSync } from 'node:fs';
import path from 'node:path';

import * as dcmjs from 'dcmjs';
import fc from 'fast-check';

import { matchRule, parseRules, testMatcher } from '../../src/gateway/rules';
import { globToRegExp } from '../../src/gateway/rules/glob';
import type { MatchInput, ParseRulesResult, RuleSet } from '../../src/gateway/rules';

const DATA = path.resolve(__dirname, '../../../shared/data');
const EXAMPLE = readFileSync(path.resolve(__dirname, '../../config/rules.example.yaml'), 'utf8');

function ok(result: ParseRulesResult): RuleSet {
  if (!result.ok) throw new Error(`expected valid rules: ${JSON.stringify(result.errors)}`);
  return result.rules;
}

function errorsOf(result: ParseRulesResult): { path: string; message: string }[] {
  if (result.ok) throw new Error('expected invalid rules');
  return [...result.errors];
}

/** Attribute getter over a real DICOM file, as the gateway builds it (multi-values joined by \). */
function attributesOf(relative: string): (keyword: string) => string | undefined {
  const bytes = readFileSync(path.join(DATA, relative));
  const message = dcmjs.data.DicomMessage.readFile(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict) as Record<
    string,
    unknown
  >;
  return (keyword) => {
    const value = dataset[keyword];
    if (value === undefined || value === null) return undefined;
    const values: unknown[] = Array.isArray(value) ? value : [value];
    return values
      .map((v) =>
        v !== null && typeof v === 'object' && 'Alphabetic' in v ? String(v.Alphabetic) : String(v),
      )
      .join('\\');
  };
}

function input(
  attributes: Record<string, string>,
  caller: { subject?: string; roles?: string[] } = {},
): MatchInput {
  return {
    attributes: (k) => attributes[k],
    caller: { subject: caller.subject ?? 'ct-1', roles: caller.roles ?? ['modality'] },
  };
}

describe('parseRules', () => {
  it('accepts the shipped example with its destinations and fills defaults', () => {
    const rules = ok(parseRules(EXAMPLE, { destinations: ['main', 'research'] }));
    expect(rules.rules.map((r) => r.name)).toEqual([
      'refuse-secondary-capture',
      'localizers-unchanged',
      'research-scanner',
      'ct-embed',
      'partner-mr-robust',
    ]);
    expect(rules.rules[0]?.action).toEqual({ type: 'reject', failureReason: 0x0122 });
    expect(rules.default).toEqual({
      name: 'default',
      action: {
        type: 'embed',
        profile: 'fidelity',
        segmenter: 'onnx-maskrcnn',
        marginPx: 4,
        uidPolicy: 'keep',
        onFailure: 'store-original',
      },
    });
    expect(Object.isFrozen(rules.rules[3]?.match)).toBe(true);
  });

  it('fills embed defaults for a bare embed action', () => {
    const rules = ok(parseRules('default: { action: embed }'));
    expect(rules.default.action).toEqual({
      type: 'embed',
      profile: 'fidelity',
      segmenter: 'onnx-maskrcnn',
      marginPx: 4,
      uidPolicy: 'keep',
      onFailure: 'store-original',
    });
  });

  it.each([
    ['0x0122', 0x0122],
    ['"0xC122"', 0xc122],
    ['C000', 0xc000],
    ['0xA700', 0xa700],
    ['0x0110', 0x0110],
  ])('reads failure reason %s as %i', (text, code) => {
    const rules = ok(parseRules(`default: { action: reject, failureReason: ${text} }`));
    expect(rules.default.action).toEqual({ type: 'reject', failureReason: code });
  });

  it('reports every problem at once, each with its path', () => {
    const text = [
      'version: 1',
      'rules:',
      '  - name: a',
      '    action: embd',
      '  - name: a',
      '    action: reject',
      '    failureReason: 0122',
      '    match:',
      '      attributes:',
      '        modality: CT',
      '        StationName: { regex: "(" }',
      '  - name: c',
      '    action: passthrough',
      '    profile: paper',
      '  - name: d',
      '    action: embed',
      '    profile: best',
      '    marginPx: 2.5',
      '    destination: nowhere',
      '    match: { caller: { roles: [superuser] } }',
      'default: { action: passthrough }',
    ].join('\n');
    const errors = errorsOf(parseRules(text, { destinations: ['main'] }));
    const byPath = new Map(errors.map((e) => [e.path, e.message]));
    expect(byPath.get('rules[0].action')).toBe('action must be one of embed, passthrough, reject');
    expect(byPath.get('rules[1].name')).toBe('duplicate rule name [a] (also rules[0])');
    expect(byPath.get('rules[1].failureReason')).toMatch(/\[0x007A\] is not a PS3.18/);
    expect(byPath.get('rules[1].match.attributes.modality')).toMatch(/not a DICOM keyword/);
    expect(byPath.get('rules[1].match.attributes.StationName.regex')).toMatch(
      /invalid regular expression/,
    );
    expect(byPath.get('rules[2]')).toBe('unknown field [profile] for action passthrough');
    expect(byPath.get('rules[3].profile')).toBe('must be one of paper, fidelity, robust');
    expect(byPath.get('rules[3].marginPx')).toBe('must be an integer');
    expect(byPath.get('rules[3].match.caller.roles[0]')).toBe(
      'must be one of modality, viewer, auditor, admin',
    );
    expect(byPath.get('rules[3].destination')).toMatch(/unknown destination \[nowhere\]/);
    expect(errors).toHaveLength(10);
  });

  it.each<[string, string, string | RegExp]>([
    ['', '', /empty: a `default` rule is required/],
    ['rules: []', 'default', 'is required'],
    ['rules: 3\ndefault: { action: passthrough }', 'rules', 'must be a list of rules'],
    ['version: 2\ndefault: { action: passthrough }', 'version', 'must be one of 1'],
    ['default: { action: passthrough }\nextra: 1', '', 'unknown field [extra]'],
    ['rules: [\n', '(yaml line 2, column 1)', /must be sufficiently indented/],
    ['default: 1\ndefault: 2', '(yaml line 2, column 1)', 'Map keys must be unique'],
    [
      'default: { action: reject, failureReason: 0xB000 }',
      'default.failureReason',
      /\[0xB000\] is not a PS3.18 Table I.2-2 failure reason/,
    ],
    [
      'default: { action: passthrough, match: {} }',
      'default',
      'unknown field [match] for action passthrough',
    ],
    [
      'rules: [{ name: x, action: passthrough, match: { attributes: { Modality: { glob: CT, regex: CT } } } }]\ndefault: { action: passthrough }',
      'rules[0].match.attributes.Modality',
      /must be a value, a list of values/,
    ],
    [
      'rules: [{ name: x, action: passthrough, match: { attributes: { Modality: { like: CT } } } }]\ndefault: { action: passthrough }',
      'rules[0].match.attributes.Modality',
      /must be a value, a list of values, or an object with one of equals/,
    ],
    [
      'rules: [{ name: "bad name!", action: passthrough }]\ndefault: { action: passthrough }',
      'rules[0].name',
      /must be 1-64 letters/,
    ],
    [
      'rules: [{ name: x, action: passthrough }]\ndefault: { name: x, action: passthrough }',
      'default.name',
      'duplicate rule name [x]',
    ],
  ])('rejects %j at [%s]', (text, at, message) => {
    const errors = errorsOf(parseRules(text));
    const found = errors.find((e) => e.path === at);
    expect(found).toBeDefined();
    expect(found?.message).toEqual(
      typeof message === 'string' ? message : expect.stringMatching(message),
    );
  });

  it('checks keywords against a dictionary when given one', () => {
    const text =
      'rules: [{ name: x, action: passthrough, match: { attributes: { Modalty: CT } } }]\n' +
      'default: { action: passthrough }';
    expect(parseRules(text).ok).toBe(true);
    const errors = errorsOf(parseRules(text, { isKnownKeyword: (k) => k === 'Modality' }));
    expect(errors).toEqual([
      {
        path: 'rules[0].match.attributes.Modalty',
        message: '[Modalty] is not in the DICOM dictionary (PS3.6)',
      },
    ]);
  });

  it('refuses a YAML alias bomb with an error instead of expanding it', () => {
    let text = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
    let previous = 'a';
    for (let i = 0; i < 8; i += 1) {
      text += `l${i}: &l${i} [${Array.from({ length: 10 }, () => `*${previous}`).join(', ')}]\n`;
      previous = `l${i}`;
    }
    const errors = errorsOf(parseRules(`${text}default: { action: passthrough }`));
    expect(errors).toEqual([{ path: '(yaml)', message: expect.stringMatching(/alias count/) }]);
  });

  it('refuses oversized text without parsing it', () => {
    const errors = errorsOf(
      parseRules(`# ${'x'.repeat(1_000_001)}\ndefault: {action: passthrough}`),
    );
    expect(errors[0]?.message).toMatch(/over 1000000 characters/);
  });
});

describe('matchRule', () => {
  const rules = ok(
    parseRules(
      [
        'rules:',
        '  - { name: eq, action: passthrough, match: { attributes: { Modality: OT } } }',
        '  - { name: eq-ic, action: passthrough, match: { attributes: { Modality: { equals: xa, ignoreCase: true } } } }',
        '  - { name: in, action: passthrough, match: { attributes: { Modality: [US, DX] } } }',
        '  - { name: glob, action: passthrough, match: { attributes: { StationName: { glob: "CT-?1*" } } } }',
        '  - { name: regex, action: passthrough, match: { attributes: { StationName: { regex: "^MR\\\\d+$" } } } }',
        '  - { name: not, action: passthrough, match: { attributes: { Modality: MR, Manufacturer: { not: { glob: "*Philips*" } } } } }',
        '  - { name: absent, action: passthrough, match: { attributes: { Modality: CT, BodyPartExamined: { present: false } } } }',
        '  - { name: subject, action: passthrough, match: { caller: { subject: { regex: "^partner-" } } } }',
        '  - { name: role, action: passthrough, match: { caller: { roles: [admin] } } }',
        '  - { name: patient, action: reject, failureReason: 0x0110, match: { attributes: { PatientID: ANON } } }',
        'default: { name: fallback, action: embed, destination: main }',
      ].join('\n'),
    ),
  );

  it.each<[string, Record<string, string>, { subject?: string; roles?: string[] }, string]>([
    ['exact', { Modality: 'OT' }, {}, 'eq'],
    ['exact is case-sensitive', { Modality: 'ot' }, {}, 'fallback'],
    ['ignoreCase', { Modality: 'XA' }, {}, 'eq-ic'],
    ['one of', { Modality: 'DX' }, {}, 'in'],
    ['glob', { Modality: 'CT', StationName: 'CT-01-EAST' }, {}, 'glob'],
    ['glob anchors at both ends', { Modality: 'PT', StationName: 'XCT-01' }, {}, 'fallback'],
    ['regex', { Modality: 'PT', StationName: 'MR42' }, {}, 'regex'],
    ['values are trimmed (DICOM pads)', { Modality: 'OT ' }, {}, 'eq'],
    ['negation holds', { Modality: 'MR', Manufacturer: 'Siemens' }, {}, 'not'],
    ['negation fails', { Modality: 'MR', Manufacturer: 'Philips Medical' }, {}, 'fallback'],
    ['negation of an absent attribute holds', { Modality: 'MR' }, {}, 'not'],
    ['absent attribute', { Modality: 'CT' }, {}, 'absent'],
    ['empty counts as absent', { Modality: 'CT', BodyPartExamined: '' }, {}, 'absent'],
    ['present attribute', { Modality: 'CT', BodyPartExamined: 'CHEST' }, {}, 'fallback'],
    ['caller subject', { Modality: 'PT' }, { subject: 'partner-7' }, 'subject'],
    ['caller role', { Modality: 'PT' }, { roles: ['viewer', 'admin'] }, 'role'],
  ])('%s', (_label, attributes, caller, expected) => {
    expect(matchRule(rules, input(attributes, caller)).ruleName).toBe(expected);
  });

  it('returns the action, destination and an explanation for each earlier rule', () => {
    const result = matchRule(
      rules,
      input({ Modality: 'MR', Manufacturer: 'Philips', StationName: 'X' }),
    );
    expect(result.isDefault).toBe(true);
    expect(result.ruleIndex).toBe(-1);
    expect(result.destination).toBe('main');
    expect(result.action.type).toBe('embed');
    expect(result.explanation).toHaveLength(rules.rules.length + 1);
    expect(result.explanation[0]).toBe(
      'rule 1 [eq] did not match: Modality is [MR], wanted equals [OT]',
    );
    expect(result.explanation[5]).toBe(
      'rule 6 [not] did not match: Manufacturer is [Philips], wanted not (glob [*Philips*])',
    );
    expect(result.explanation[7]).toBe(
      'rule 8 [subject] did not match: caller subject is [ct-1], wanted regex [^partner-]',
    );
    expect(result.explanation[8]).toBe(
      'rule 9 [role] did not match: caller roles are [modality], wanted one of [admin]',
    );
    expect(result.explanation[10]).toBe('no rule matched: default rule [fallback] applies');
  });

  it('first match wins and stops the explanation there', () => {
    const result = matchRule(rules, input({ Modality: 'US' }, { roles: ['admin'] }));
    expect(result.ruleName).toBe('in');
    expect(result.ruleIndex).toBe(2);
    expect(result.explanation).toEqual([
      'rule 1 [eq] did not match: Modality is [US], wanted equals [OT]',
      'rule 2 [eq-ic] did not match: Modality is [US], wanted equals [xa] (ignoring case)',
      'rule 3 [in] matched',
    ]);
  });

  it('never repeats a patient attribute value in the explanation', () => {
    const result = matchRule(rules, input({ Modality: 'PT', PatientID: 'SECRET-ID-123' }));
    const line = result.explanation.find((l) => l.includes('[patient]'));
    expect(line).toBe(
      'rule 10 [patient] did not match: PatientID is [(not shown)], wanted equals [ANON]',
    );
    expect(result.explanation.join('\n')).not.toContain('SECRET-ID-123');
  });

  it.each([
    ['ct/cmb-crc-chest-abdomen/1-001.dcm', 'ct-embed'],
    ['ct/lung-pet-ct-dx/1-01.dcm', 'ct-embed'],
    ['mr/pdmr-mouse-abdomen/1-01.dcm', 'default'],
  ])('routes the real file %s by the example rules to [%s]', (file, expected) => {
    const example = ok(parseRules(EXAMPLE));
    const result = matchRule(example, {
      attributes: attributesOf(file),
      caller: { subject: 'ct-scanner-1', roles: ['modality'] },
    });
    expect(result.ruleName).toBe(expected);
  });

  it('routes a real MR from a partner sender to the robust profile with derived UIDs', () => {
    const example = ok(parseRules(EXAMPLE));
    const result = matchRule(example, {
      attributes: attributesOf('mr/pdmr-mouse-abdomen/1-01.dcm'),
      caller: { subject: 'partner-mr', roles: ['modality'] },
    });
    expect(result.ruleName).toBe('partner-mr-robust');
    expect(result.action).toMatchObject({ type: 'embed', profile: 'robust', uidPolicy: 'derive' });
    expect(result.explanation[1]).toMatch(/ImageType is \[DERIVED\\PRIMARY\\SPLIT\], wanted glob/);
  });
});

describe('glob and matcher properties', () => {
  const escapeGlob = (text: string): string => text.replace(/[\\*?]/g, '\\$&');
  const anyText = fc.string({ unit: 'binary', maxLength: 24 });

  it('an escaped literal matches exactly itself', () => {
    fc.assert(
      fc.property(anyText, fc.string({ minLength: 1, maxLength: 4 }), (text, extra) => {
        const re = globToRegExp(escapeGlob(text));
        return re.test(text) && !re.test(`${text}${extra}`) && !re.test(`${extra}${text}`);
      }),
    );
  });

  it('*literal* matches the literal inside any text', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, (before, text, after) =>
        globToRegExp(`*${escapeGlob(text)}*`).test(`${before}${text}${after}`),
      ),
    );
  });

  it('? matches exactly one character', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        anyText,
        (one, text) => {
          const re = globToRegExp(`?${escapeGlob(text)}`);
          return re.test(`${one}${text}`) && !re.test(text);
        },
      ),
    );
  });

  it('not(m) holds exactly when m does not, present or absent', () => {
    fc.assert(
      fc.property(anyText, fc.option(anyText, { nil: undefined }), (pattern, value) => {
        const matcher = { kind: 'equals', value: pattern, ignoreCase: false } as const;
        return testMatcher({ kind: 'not', matcher }, value) === !testMatcher(matcher, value);
      }),
    );
  });
});
