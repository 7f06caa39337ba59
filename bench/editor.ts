/**
 * 6. Editor workflows: converting a workflow of about 1,000 nodes from cached node definitions,
 * and the whole-process time of `pyros run` on an editor-format workflow against the API-format
 * original (the same job), the definitions cached on disk as after a first run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertEditorWorkflow } from '../src/workflow/editor/index.ts';
import { definitionsCachePath } from '../src/workflow/editor/definitions-cache.ts';
import { buildLargeWorkflow } from './convert.ts';
import { measureProcess, pinned } from './lib/proc.ts';
import type { SectionContext } from './lib/section.ts';
import { round, shuffled, summarize } from './lib/stats.ts';

export interface EditorPlan {
  conversions: number;
  runs: number;
  warmup: number;
}

export async function editorSection(options: SectionContext & { plan: EditorPlan; server: string }): Promise<Record<string, unknown>> {
  const { plan, pinning, root, server, work, log } = options;
  log(`6. editor workflows: ${plan.conversions} conversions of 1,000 nodes; ${plan.warmup} warm-up + ${plan.runs} runs × 2 workflows`);

  // The cache as a run leaves it: the server's /object_info in a file, read and parsed each time.
  const cacheDir = join(work, 'cache', 'object-info');
  await mkdir(cacheDir, { recursive: true });
  const stats = (await (await fetch(`${server}/system_stats`)).json()) as { system?: { comfyui_version?: string } };
  const key = { server, comfyuiVersion: stats.system?.comfyui_version ?? 'unknown' };
  const cacheFile = definitionsCachePath(cacheDir, key);
  await writeFile(cacheFile, JSON.stringify({ key, savedAt: new Date().toISOString(), definitions: await (await fetch(`${server}/object_info`)).json() }));
  const realDefinitions = join(root, 'test', 'fixtures', 'editor', 'object_info.json');

  const { workflow, nodeCount } = buildLargeWorkflow(1000);
  const convertMs: number[] = [];
  const withReadMs: number[] = [];
  const definitionsText = await readFile(realDefinitions, 'utf8');
  for (let i = 0; i < plan.conversions + 3; i++) {
    const start = performance.now();
    const definitions = JSON.parse(definitionsText) as unknown;
    const parsed = performance.now();
    convertEditorWorkflow(workflow, definitions);
    const end = performance.now();
    if (i < 3) continue;
    convertMs.push(end - parsed);
    withReadMs.push(end - start);
  }

  const commands = [
    { name: 'pyros run (API format)', file: join(root, 'examples', 'txt2img.json') },
    { name: 'pyros run (editor format)', file: join(root, 'examples', 'txt2img.editor.json') },
  ];
  const env = { ...options.env, PYROS_CACHE: join(work, 'cache') };
  const samples = new Map<string, number[]>(commands.map((c) => [c.name, []]));
  const errors: string[] = [];
  for (let run = 0; run < plan.warmup + plan.runs; run++) {
    for (const command of shuffled(commands)) {
      const argv = [process.execPath, join(root, 'bin', 'pyros.js'), 'run', command.file, '--server', server, '--seed', String(run + 1), '-o', join(work, 'editor-out')];
      const measured = await measureProcess(pinned(pinning.client, argv), { env, timeoutMs: 30_000 });
      if (!measured.ok) errors.push(`${command.name}: exit ${measured.code}: ${measured.stderr.trim().split('\n').at(-1) ?? ''}`);
      else if (run >= plan.warmup) samples.get(command.name)?.push(measured.ms);
    }
  }
  const api = summarize(samples.get(commands[0]!.name) ?? []);
  const editor = summarize(samples.get(commands[1]!.name) ?? []);
  return {
    title: 'Editor workflows',
    targets: 'a 1,000-node conversion under 50 ms; pyros run on the editor format ≤ 1.10× the API format',
    conversion: {
      nodes: nodeCount,
      definitions: 'test/fixtures/editor/object_info.json (a real ComfyUI 0.3.64, 383 classes)',
      convertMs: roundSummary(summarize(convertMs)),
      parseAndConvertMs: roundSummary(summarize(withReadMs)),
    },
    process: {
      runs: plan.runs,
      api: roundSummary(api),
      editor: roundSummary(editor),
      ratio: api.median > 0 ? round(editor.median / api.median, 3) : null,
      failures: errors.length,
      errors,
    },
  };
}

function roundSummary(summary: ReturnType<typeof summarize>): Record<string, number> {
  return { n: summary.n, median: round(summary.median, 2), p95: round(summary.p95, 2), min: round(summary.min, 2), max: round(summary.max, 2) };
}
