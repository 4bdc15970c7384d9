import type onnxProto from 'onnx-proto';
import type { NodeProto } from '../onnx.ts';
import { DType, makeAttribute, makeTensor, type AttrValue, type TensorProto } from './proto.ts';

/** A subgraph input: float32 unless `bool`, of the given rank (sizes left open). */
export interface BodyInput {
  hint: string;
  rank: number;
  bool?: boolean;
}

/**
 * Emits the nodes and constants of the backward pass, in the operator set of the model being
 * differentiated: several operators moved attributes to inputs between opsets (ReduceSum and
 * Squeeze/Unsqueeze at 13, the other reductions at 18), and the helpers here pick the right form.
 */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();
  private readonly shapes = new Map<string, string>();

  constructor(
    readonly opset: number,
    private readonly prefix = 'grad',
  ) {}

  fresh(hint: string): string {
    return `${this.prefix}/${hint}_${this.counter++}`;
  }

  /**
   * The body of a Scan (or Loop): a child builder whose nodes and constants form a subgraph with
   * the given inputs; `build` gets the child and the inputs' names and returns the body's outputs
   * (float32). Tensors of this graph may be used inside by name (outer-scope references).
   */
  subgraph(
    inputs: BodyInput[],
    build: (body: GraphBuilder, inputs: string[]) => string[],
  ): onnxProto.onnx.IGraphProto {
    const body = new GraphBuilder(this.opset, this.fresh('body'));
    const names = inputs.map((i) => body.fresh(i.hint));
    const results = build(body, names);
    // Every output must be produced by a node of the body, once.
    const seen = new Set<string>(names);
    const outputs = results.map((r) => {
      const out =
        seen.has(r) || !body.nodes.some((n) => n.output?.includes(r))
          ? body.op('Identity', [r])
          : r;
      seen.add(out);
      return out;
    });
    const valueInfo = (name: string, rank: number, bool = false) => ({
      name,
      type: {
        tensorType: {
          elemType: bool ? DType.BOOL : DType.FLOAT,
          shape: { dim: [...Array(rank).keys()].map(() => ({})) },
        },
      },
    });
    return {
      name: body.prefix,
      node: body.nodes,
      initializer: body.initializers,
      input: inputs.map((i, k) => valueInfo(names[k], i.rank, i.bool)),
      output: outputs.map((o) => ({
        name: o,
        type: { tensorType: { elemType: DType.FLOAT } },
      })),
    };
  }

  /** Add a node; returns its output names. */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue | undefined> = {},
    outputs = 1,
  ): string[] {
    const names = [...Array(outputs).keys()].map(() => this.fresh(opType));
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: names,
      attribute: Object.entries(attrs)
        .filter((e): e is [string, AttrValue] => e[1] !== undefined)
        .map(([k, v]) => makeAttribute(k, v)),
    });
    return names;
  }

  /** A single-output node. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}): string {
    return this.node(opType, inputs, attrs)[0];
  }

  /** A float32 constant (scalar when dims is []). Identical constants are shared. */
  floats(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    return this.constant('float32', values, dims);
  }

  /** An int64 constant, 1-D by default. */
  ints(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    return this.constant('int64', values, dims);
  }

  scalar(value: number): string {
    return this.floats([value], []);
  }

  private constant(type: 'float32' | 'int64', values: ArrayLike<number>, dims: number[]): string {
    const key = `${type}:${dims.join(',')}:${Array.from(values).join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh(type === 'float32' ? 'const' : 'ints');
      this.initializers.push(makeTensor(name, type, values, dims));
      if (values.length <= 64) this.constants.set(key, name);
    }
    return name;
  }

  /** Shape(x), emitted once per tensor. */
  shape(x: string): string {
    let s = this.shapes.get(x);
    if (!s) {
      s = this.op('Shape', [x]);
      this.shapes.set(x, s);
    }
    return s;
  }

  /** Reshape `x` to the run-time shape of `like`. */
  reshapeLike(x: string, like: string): string {
    return this.op('Reshape', [x, this.shape(like)]);
  }

  /** Zeros with the run-time shape of `like` (float32). */
  zerosLike(like: string): string {
    return this.op('ConstantOfShape', [this.shape(like)]);
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }

  /** The sum of one or more tensors of the same shape. */
  sum(terms: string[]): string {
    if (terms.length === 0) throw new Error('sum of nothing');
    return terms.length === 1 ? terms[0] : this.op('Sum', terms);
  }

  /** A reduction over explicit axes, axes as attribute or input by opset. */
  reduce(
    op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceProd',
    x: string,
    axes: number[],
    keepdims: boolean,
  ): string {
    const axesAsInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    return axesAsInput
      ? this.op(op, [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op(op, [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  unsqueeze(x: string, axes: number[]): string {
    if (axes.length === 0) return x;
    return this.opset >= 13
      ? this.op('Unsqueeze', [x, this.ints(axes)])
      : this.op('Unsqueeze', [x], { axes });
  }

  /** Slice along `axes` with static starts, ends and steps. */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const inputs = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
    if (steps) inputs.push(this.ints(steps));
    return this.op('Slice', inputs);
  }

  /** Zero padding with static per-axis begin and end amounts (`pads` as ONNX orders them). */
  pad(x: string, pads: number[]): string {
    if (pads.every((p) => p === 0)) return x;
    return this.op('Pad', [x, this.ints(pads)], { mode: 'constant' });
  }

  /** Transpose with a permutation; a no-op for the identity. */
  transpose(x: string, perm: number[]): string {
    if (perm.every((p, i) => p === i)) return x;
    return this.op('Transpose', [x], { perm });
  }
}
