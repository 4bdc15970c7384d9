import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';

const MODEL = join(REPO, 'models/synthetic.onnx');
const tmp = tempDir('cl-attack-cli-');

describe('concept-lens attack', () => {
  it('writes results.json with the attack, report.html and the adversarial excerpts', async () => {
    const outDir = join(tmp, 'run');
    const { code } = await runMain([
      'attack',
      '--model',
      MODEL,
      '--corpus',
      'synthetic',
      '--attack-excerpts',
      '3',
      '--budget',
      '2,1',
      '--no-cache',
      '--quiet',
      '--out',
      outDir,
    ]);
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
    expect(results.run.command).toBe('attack');
    const a = results.attack;
    expect(a.budgets).toEqual([1, 2]);
    expect(a.searches).toEqual(['greedy', 'random']);
    expect(a.excerpts).toBe(3);
    expect(a.curves.map((c: { search: string }) => c.search)).toEqual(['greedy', 'random']);
    for (const x of a.attacked)
      for (const o of Object.values(x.outcomes) as {
        success: boolean;
        midi?: { adversarial: string };
      }[])
        if (o.success) expect(existsSync(join(outDir, o.midi!.adversarial))).toBe(true);
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain('id="robustness"');
  }, 300_000); // the attack runs a second tier of edits where small ones fail (docs/edits.md)

  it('explain --attack adds the robustness section, with the concepts of the run', async () => {
    const outDir = join(tmp, 'explain');
    const { code } = await runMain([
      'explain',
      '--attack',
      '--attack-excerpts',
      '2',
      '--budget',
      '2',
      '--searches',
      'greedy',
      '--concepts',
      join(REPO, 'concepts/textures/alberti.yaml'),
      join(REPO, 'concepts/textures/canon.yaml'),
      '--random-runs',
      '3',
      '--set-size',
      '8',
      '--target-excerpts',
      '5',
      '--skip-discovery',
      '--no-cache',
      '--quiet',
      '--out',
      outDir,
    ]);
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
    expect(results.tcav.length).toBeGreaterThan(0);
    expect(results.attack.searches).toEqual(['greedy']);
    expect(results.attack.concepts.layer).toBe('layer3');
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain('id="robustness"');
  }, 300_000);

  it('rejects bad flags with one line and exit code 2, writing nothing', async () => {
    for (const [flag, value, message] of [
      ['--budget', '1,x', /--budget/],
      ['--searches', 'greedy,smart', /--searches/],
      ['--candidates', '0', /--candidates/],
    ] as [string, string, RegExp][]) {
      const outDir = join(tmp, `bad-${flag.slice(2)}`);
      const { code, stderr } = await runMain([
        'attack',
        '--model',
        MODEL,
        '--corpus',
        'synthetic',
        flag,
        value,
        '--out',
        outDir,
        '--quiet',
      ]);
      expect(code).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(outDir)).toBe(false);
    }
  });
});
