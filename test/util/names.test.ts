import { describe, expect, it } from 'vitest';
import { isInside, safeSegment } from '../../src/util/paths.ts';
import { printable, safeJson } from '../../src/util/terminal.ts';

describe('safeSegment: one rule for names that become paths', () => {
  it.each([
    ['../../x/pwned', 'x_pwned'],
    ['nmf-../../../../x/pwned-01', 'nmf-_x_pwned-01'],
    ['..', '_'],
    ['.hidden', 'hidden'],
    ['Dvořák', 'Dvorak'],
    ['Chopin/Etudes op. 10', 'Chopin_Etudes_op._10'],
    ['a\u0000b\u001b[2Jc', 'a_b_2Jc'],
    ['', '_'],
    ['C:\\Windows\\x', 'C_Windows_x'],
  ])('%j -> %j', (name, expected) => {
    const s = safeSegment(name);
    expect(s).toBe(expected);
    expect(s).not.toMatch(/^\.|\.\.|[/\\]/);
    expect(isInside('/out', `/out/${s}`)).toBe(true);
  });

  it('is at most 80 characters', () => {
    expect(safeSegment('x'.repeat(500))).toHaveLength(80);
  });
});

describe('printable: no raw control characters reach the terminal', () => {
  it('escapes C0, DEL, C1 and bidi overrides, keeps newlines, tabs and letters', () => {
    expect(printable('Bach\u001b[2J\u0007\u009b\u202e\tok\nÉ')).toBe(
      'Bach\\x1b[2J\\x07\\x9b\\u202e\tok\nÉ',
    );
    expect(safeJson({ c: 'a\u001bb\u009bc' })).toBe('{\n  "c": "a\\u001bb\\u009bc"\n}');
    expect(JSON.parse(safeJson({ c: 'a\u009b' })).c).toBe('a\u009b');
  });
});
