import type { Argv, CommandModule } from 'yargs';

/**
 * A command's help lists its own options first and the global ones after. yargs prints a
 * command's own groups before the groups it keeps from the top level (the global options, grouped
 * in main.ts as GLOBAL_GROUP), so each command's own options are put in an `Options:` group once
 * its builder has declared them. Subcommands (`model inspect`, `corpus info`) are wrapped as their
 * parent's builder declares them.
 */
export const GLOBAL_GROUP = 'Global options:';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

interface Introspectable {
  getGroups(): Record<string, string[]>;
  getOptions(): { key: Record<string, unknown> };
}

export function ownOptionsFirst(command: AnyCommand): AnyCommand {
  const builder = command.builder;
  return {
    ...command,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    builder: (y: Argv<any>) => {
      const wrapped = wrapSubcommands(y);
      const result =
        typeof builder === 'function' ? builder(wrapped) : builder ? y.options(builder) : y;
      const built = (result === wrapped ? y : result) as Argv;
      // Both accessors exist on yargs instances but are missing from @types/yargs.
      const inner = built as unknown as Introspectable;
      const global = new Set(inner.getGroups()[GLOBAL_GROUP] ?? []);
      const own = Object.keys(inner.getOptions().key).filter((k) => !global.has(k));
      return own.length > 0 ? built.group(own, 'Options:') : built;
    },
  };
}

/** `y` whose `.command(module)` wraps the module too, through chained calls. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function wrapSubcommands(y: Argv<any>): Argv<any> {
  const proxy: Argv = new Proxy(y, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (key === 'command' && args.length === 1 && typeof args[0] === 'object')
          args = [ownOptionsFirst(args[0] as AnyCommand)];
        const out = value.apply(target, args);
        return out === target ? proxy : out;
      };
    },
  });
  return proxy;
}
