import ort from 'onnxruntime-node';
import { Rng } from '../util/random.ts';
import { tensorInts } from './axes.ts';
import {
  declaredDims,
  encodeModel,
  graphInputs,
  onnx,
  type Dim,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx.ts';

/**
 * The batch dimension of a classifier, and the one place where sessions run batches.
 *
 * PyTorch exports a fixed batch (usually 1) unless `dynamic_axes` is given, and with it often
 * freezes the batch into Reshape shapes ([1, -1], or [T, batch * heads, d] inside attention).
 * When the file fixes the batch at B, the graph's batch dimension is made symbolic (and Reshape
 * shapes that start with B are made to copy the batch instead), and the result is accepted only if
 * a batch of 3 probe excerpts gives the same logits and activations, tensor by tensor, as the
 * original graph run one excerpt at a time. Otherwise the model runs at its fixed size: every
 * session of the classifier (full model, heads, gradient graphs) runs through `BatchPolicy.run`,
 * which cuts any number of items into chunks of B and pads the last one.
 *
 * A graph that declares a symbolic batch is checked the same way, since a hard-coded reshape can
 * hide behind a symbolic input; it falls back to one excerpt at a time when the check fails.
 */
export type BatchMode = 'dynamic' | 'rewritten' | 'fixed';

export interface BatchInfo {
  mode: BatchMode;
  /** The batch dimension the file declares: a number when fixed, its name (or null) when symbolic. */
  declared: Dim;
  /** Rows of every session run in mode `fixed`. */
  size?: number;
  /** Reshape shapes that froze the batch and were made to copy it (mode `rewritten`). */
  reshapes?: number;
  /** One sentence for `model inspect`. */
  reason: string;
}

/** One input of a session run: n items of itemDims each, row-major, batch first. */
export interface Feed {
  name: string;
  data: Float32Array;
  itemDims: number[];
}

export class BatchPolicy {
  constructor(readonly info: BatchInfo) {}

  static dynamic(): BatchPolicy {
    return new BatchPolicy({ mode: 'dynamic', declared: 'batch', reason: 'symbolic batch' });
  }

  /** Items per session run: the fixed size, or unlimited. */
  get rows(): number {
    return this.info.mode === 'fixed' ? this.info.size! : Infinity;
  }

  /**
   * Run a session on n items and return each requested output, [n x per-item size]. In mode
   * `fixed` the items go B at a time, the last chunk padded with zeros (and its padding dropped).
   */
  async run(
    session: ort.InferenceSession,
    feeds: Feed[],
    n: number,
    outputs: string[],
  ): Promise<Record<string, Float32Array>> {
    const rows = this.rows;
    if (rows >= n && this.info.mode !== 'fixed') {
      const out = await session.run(tensors(feeds, 0, n, n), outputs);
      return Object.fromEntries(outputs.map((o) => [o, out[o].data as Float32Array]));
    }
    const result: Record<string, Float32Array> = {};
    for (let start = 0; start < n; start += rows) {
      const count = Math.min(rows, n - start);
      const out = await session.run(tensors(feeds, start, count, rows), outputs);
      for (const o of outputs) {
        const t = out[o];
        if (Number(t.dims[0]) !== rows) {
          throw new Error(
            `output ${o} has first dimension ${t.dims[0]}; the model's fixed batch is ${rows}`,
          );
        }
        const data = t.data as Float32Array;
        const per = data.length / rows;
        result[o] ??= new Float32Array(n * per);
        result[o].set(data.subarray(0, count * per), start * per);
      }
    }
    return result;
  }
}

/** Feeds of items [start, start + count), padded with zero items to `rows`. */
function tensors(
  feeds: Feed[],
  start: number,
  count: number,
  rows: number,
): Record<string, ort.Tensor> {
  return Object.fromEntries(
    feeds.map((f) => {
      const size = f.itemDims.reduce((a, b) => a * b, 1);
      if (f.data.length % size !== 0)
        throw new Error(`feed ${f.name}: ${f.data.length} values are not items of ${size}`);
      let data = f.data.subarray(start * size, (start + count) * size);
      if (count < rows) {
        const padded = new Float32Array(rows * size);
        padded.set(data);
        data = padded;
      }
      return [f.name, new ort.Tensor('float32', data, [rows, ...f.itemDims])];
    }),
  );
}

/** What one run of the whole graph (every tensor an output) says about it. */
export interface Probe {
  /** Batch size of the run the shapes come from. */
  n: number;
  /** Full shape (batch included) and element type of every tensor the graph computes. */
  shapes: Map<string, number[]>;
  types: Map<string, string>;
  /**
   * Tensors whose first axis is the batch: known when the graph ran at two batch sizes (the
   * dimension followed the batch and the values each item's own); undefined in mode `fixed`.
   */
  perItem?: Set<string>;
}

export interface ResolvedBatch {
  policy: BatchPolicy;
  /** The graph to run: the file's, or the file's with a symbolic batch. */
  model: ModelProto;
  probe: Probe;
}

/** Probe excerpts: a few distinct sparse rolls (zeros would hide batch mix-ups). */
const PROBE_ITEMS = 3;
/**
 * Probe runs return every tensor of the graph; they go in groups sized so that one group's values
 * stay near this many bytes (estimated from the group before), whatever the model's size.
 */
const PROBE_BYTES = 256 * 2 ** 20;

/** Tensor names in groups of at most PROBE_BYTES of values, learning the sizes as it goes. */
function* groups(names: string[], bytesOf: (group: string[]) => number): Generator<string[]> {
  let size = 16;
  for (let g = 0; g < names.length;) {
    const group = names.slice(g, g + size);
    yield group;
    g += group.length;
    const perTensor = bytesOf(group) / group.length;
    size = Math.max(1, Math.min(256, Math.floor(PROBE_BYTES / Math.max(perTensor, 1))));
  }
}

function bytes(outputs: Record<string, ort.Tensor>[], group: string[]): number {
  let total = 0;
  for (const out of outputs) for (const t of group) total += out[t]?.data.length ?? 0;
  return 4 * total;
}

export async function resolveBatch(model: ModelProto, itemDims: number[]): Promise<ResolvedBatch> {
  const input = graphInputs(model)[0];
  const inputName = input.name!;
  const outputName = model.graph!.output![0].name!;
  const declared = declaredDims(input)[0] ?? null;
  const items = probeItems(itemDims);
  const tensorNames = [
    outputName,
    ...new Set(
      (model.graph!.node ?? []).flatMap((n) =>
        (n.output ?? []).filter((o) => o && o !== outputName),
      ),
    ),
  ];

  if (typeof declared === 'number') {
    const B = declared;
    let failure = '';
    for (const reshapes of [false, true]) {
      const candidate = withSymbolicBatch(model, inputName, B, reshapes);
      if (reshapes && candidate.reshapes === 0) break;
      const check = await compareBatching({ model, rows: B }, candidate.model, {
        itemDims,
        items,
        tensorNames,
        outputName,
      });
      if (check.ok) {
        const copy = candidate.reshapes
          ? ` (${candidate.reshapes} Reshape shape${candidate.reshapes === 1 ? '' : 's'} that froze it now cop${candidate.reshapes === 1 ? 'ies' : 'y'} the batch)`
          : '';
        return {
          policy: new BatchPolicy({
            mode: 'rewritten',
            declared,
            ...(candidate.reshapes ? { reshapes: candidate.reshapes } : {}),
            reason: `the graph was given a symbolic batch${copy}, and a batch of ${PROBE_ITEMS} gives the same logits and activations as excerpts run one at a time`,
          }),
          model: candidate.model,
          probe: check.probe,
        };
      }
      failure = check.reason;
    }
    return {
      policy: new BatchPolicy({
        mode: 'fixed',
        declared,
        size: B,
        reason: `the graph cannot take another batch size (${failure})`,
      }),
      model,
      probe: await probeAt(model, B, itemDims, items, tensorNames),
    };
  }
  const check = await compareBatching({ model, rows: 1 }, model, {
    itemDims,
    items,
    tensorNames,
    outputName,
  });
  if (check.ok) {
    return {
      policy: new BatchPolicy({ mode: 'dynamic', declared, reason: 'symbolic batch' }),
      model,
      probe: check.probe,
    };
  }
  return {
    policy: new BatchPolicy({
      mode: 'fixed',
      declared,
      size: 1,
      reason: `the graph declares a symbolic batch, but ${check.reason}`,
    }),
    model,
    probe: await probeAt(model, 1, itemDims, items, tensorNames),
  };
}

/** Seeded sparse binary rolls in the model's input layout (the layout does not matter here). */
function probeItems(itemDims: number[]): Float32Array[] {
  const size = itemDims.reduce((a, b) => a * b, 1);
  const rng = new Rng('batch-probe');
  return Array.from({ length: PROBE_ITEMS }, () =>
    Float32Array.from({ length: size }, () => (rng.next() < 0.05 ? 1 : 0)),
  );
}

type Check = { ok: true; probe: Probe } | { ok: false; reason: string };

/**
 * Run `reference` one item at a time (at its batch size refRows, the item in row 0) and
 * `candidate` on all items at once; the candidate passes when the logits and every tensor whose
 * first dimension followed the batch agree item by item.
 */
async function compareBatching(
  { model: reference, rows: refRows }: { model: ModelProto; rows: number },
  candidate: ModelProto,
  {
    itemDims,
    items,
    tensorNames,
    outputName,
  }: { itemDims: number[]; items: Float32Array[]; tensorNames: string[]; outputName: string },
): Promise<Check> {
  const size = items[0].length;
  const singles = items.map((item) => {
    const data = new Float32Array(refRows * size);
    data.set(item);
    return { data, n: refRows };
  });
  const all = new Float32Array(items.length * size);
  items.forEach((item, i) => all.set(item, i * size));
  const n = items.length;
  const shapes = new Map<string, number[]>();
  const types = new Map<string, string>();
  const perItem = new Set<string>();
  shapes.set(graphInputs(candidate)[0].name!, [n, ...itemDims]);
  types.set(graphInputs(candidate)[0].name!, 'float32');
  let last: Record<string, ort.Tensor>[] = [];
  for (const group of groups(tensorNames, (g) => bytes(last, g))) {
    let ref: Record<string, ort.Tensor>[];
    let cand: Record<string, ort.Tensor>;
    try {
      if (reference === candidate) {
        const runs = await runModel(reference, itemDims, group, [...singles, { data: all, n }]);
        ref = runs.slice(0, n);
        cand = runs[n];
      } else {
        ref = await runModel(reference, itemDims, group, singles);
        [cand] = await runModel(candidate, itemDims, group, [{ data: all, n }]);
      }
      last = [...ref, cand];
    } catch (err) {
      return { ok: false, reason: `a batch of ${n} fails: ${runError(err)}` };
    }
    for (const t of group) {
      const c = cand[t];
      if (!c) continue;
      shapes.set(t, c.dims.map(Number));
      types.set(t, c.type);
      const r = ref.map((outputs) => outputs[t]);
      if (r.some((x) => !x)) continue;
      const follows =
        c.type === 'float32' &&
        Number(c.dims[0]) === n &&
        r.every(
          (x) =>
            x.type === 'float32' &&
            Number(x.dims[0]) === refRows &&
            x.dims.length === c.dims.length &&
            x.dims.every((d, i) => i === 0 || Number(d) === Number(c.dims[i])),
        );
      if (!follows) {
        if (t === outputName)
          return {
            ok: false,
            reason: `a batch of ${n} gives logits of shape [${c.dims.join(', ')}]`,
          };
        continue;
      }
      const per = (c.data as Float32Array).length / n;
      for (let i = 0; i < n; i++) {
        const got = (c.data as Float32Array).subarray(i * per, (i + 1) * per);
        const want = (r[i].data as Float32Array).subarray(0, per);
        if (!close(got, want)) {
          return {
            ok: false,
            reason: `in a batch of ${n}, ${t === outputName ? 'the logits' : `tensor ${t}`} of excerpt ${i + 1} differ from the excerpt run alone`,
          };
        }
      }
      perItem.add(t);
    }
  }
  return { ok: true, probe: { n, shapes, types, perItem } };
}

/** Shapes of every tensor at the model's own batch size (mode fixed). */
async function probeAt(
  model: ModelProto,
  rows: number,
  itemDims: number[],
  items: Float32Array[],
  tensorNames: string[],
): Promise<Probe> {
  const size = items[0].length;
  const data = new Float32Array(rows * size);
  for (let r = 0; r < rows; r++) data.set(items[r % items.length], r * size);
  const shapes = new Map<string, number[]>([[graphInputs(model)[0].name!, [rows, ...itemDims]]]);
  const types = new Map<string, string>([[graphInputs(model)[0].name!, 'float32']]);
  let last: Record<string, ort.Tensor>[] = [];
  for (const group of groups(tensorNames, (g) => bytes(last, g))) {
    const [out] = await runModel(model, itemDims, group, [{ data, n: rows }]);
    last = [out];
    for (const t of group) {
      if (!out[t]) continue;
      shapes.set(t, out[t].dims.map(Number));
      types.set(t, out[t].type);
    }
  }
  return { n: rows, shapes, types };
}

/** Run `model` with `outputs` as graph outputs (types left to onnxruntime) on each batch. */
async function runModel(
  model: ModelProto,
  itemDims: number[],
  outputs: string[],
  batches: { data: Float32Array; n: number }[],
): Promise<Record<string, ort.Tensor>[]> {
  const graph = model.graph!;
  const inputName = graphInputs(model)[0].name!;
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  const produced = new Set((graph.node ?? []).flatMap((n) => n.output ?? []));
  outputs = outputs.filter((o) => existing.has(o) || produced.has(o));
  const extra = outputs.filter((o) => !existing.has(o)).map((name) => ({ name }));
  // Failures are expected here (that is what the probe is for): keep onnxruntime's log quiet.
  const session = await ort.InferenceSession.create(
    encodeModel({ ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } }),
    { logSeverityLevel: 4 },
  );
  try {
    const results: Record<string, ort.Tensor>[] = [];
    for (const b of batches) {
      const feed = new ort.Tensor('float32', b.data, [b.n, ...itemDims]);
      results.push(await session.run({ [inputName]: feed }, outputs));
    }
    return results;
  } finally {
    await session.release();
  }
}

/** onnxruntime's error as one readable line: `Reshape node /attn/Reshape_1: The input tensor ...`. */
function runError(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  const node = /running (\S+) node\. Name:'([^']*)'/.exec(message);
  const status = message
    .replace(/^.*Status Message:\s*/, '')
    .replace(/^\S+\.h:\d+ .*? was false\.\s*/, '');
  return (node ? `${node[1]} node ${node[2]}: ${status}` : status).slice(0, 300);
}

/** Same values up to float32 rounding of differently blocked arithmetic. */
function close(a: Float32Array, b: Float32Array): boolean {
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  const tolerance = 1e-4 * scale;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tolerance)) return false;
  }
  return true;
}

/**
 * The model with a symbolic batch: the input's and outputs' first dimension named `batch`,
 * intermediate shape annotations dropped (they repeat the fixed batch), and, with `reshapes`,
 * every Reshape whose constant shape starts with B changed to start with 0 ("copy the input's
 * first dimension"), which is what `x.view(x.size(0), ...)` meant before the export froze it.
 */
export function withSymbolicBatch(
  model: ModelProto,
  inputName: string,
  B: number,
  reshapes: boolean,
): { model: ModelProto; reshapes: number } {
  const graph = model.graph!;
  const symbolic = (vi: ValueInfoProto): ValueInfoProto => {
    const dims = vi.type?.tensorType?.shape?.dim;
    if (!dims || dims.length === 0 || Number(dims[0].dimValue) !== B) return vi;
    return {
      ...vi,
      type: {
        ...vi.type,
        tensorType: {
          ...vi.type!.tensorType,
          shape: { dim: [{ dimParam: 'batch' }, ...dims.slice(1)] },
        },
      },
    };
  };
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', t);
  for (const node of graph.node ?? []) {
    const value = node.attribute?.find((a) => a.name === 'value')?.t;
    if (node.opType === 'Constant' && value && node.output?.[0])
      constants.set(node.output[0], value);
  }
  let count = 0;
  const added: TensorProto[] = [];
  const nodes: NodeProto[] = (graph.node ?? []).map((node) => {
    if (!reshapes || node.opType !== 'Reshape') return node;
    const allowzero = node.attribute?.find((a) => a.name === 'allowzero');
    if (allowzero && Number(allowzero.i) === 1) return node;
    const shapeName = node.input?.[1] ?? '';
    const shape = constants.get(shapeName);
    const values = shape ? tensorInts(shape) : undefined;
    if (!values || values.length === 0 || values[0] !== B) return node;
    const name = `${shapeName}__batch_copy_${count++}`;
    const copied = [0, ...values.slice(1)];
    added.push({
      name,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [copied.length],
      rawData: new Uint8Array(BigInt64Array.from(copied.map(BigInt)).buffer),
    });
    return { ...node, input: [node.input![0], name, ...node.input!.slice(2)] };
  });
  // Shapes no node reads any more go (onnxruntime warns about unused initializers).
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  const kept = nodes.filter(
    (n) => n.opType !== 'Constant' || (n.output ?? []).some((o) => used.has(o)),
  );
  return {
    model: onnx.ModelProto.create({
      ...model,
      graph: {
        ...graph,
        node: kept,
        initializer: [...(graph.initializer ?? []), ...added].filter(
          (t) => used.has(t.name ?? '') || (graph.output ?? []).some((o) => o.name === t.name),
        ),
        input: (graph.input ?? []).map((i) => (i.name === inputName ? symbolic(i) : i)),
        output: (graph.output ?? []).map(symbolic),
        valueInfo: [],
      },
    }),
    reshapes: count,
  };
}
