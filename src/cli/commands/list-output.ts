// The output every `ls` shares: the items as JSON, their first column only (-q), or a table.
import { flagValue, type CommandContext, type ParsedCommandArgs } from '../command.js';
import { printJson } from '../io.js';
import { renderTable } from '../table.js';

export interface ListView<T> {
  headers: string[];
  row(item: T): string[];
  /** What -q prints for an item (the first column). */
  key(item: T): string;
  /** Order for -q and the table (JSON keeps the agent's order). */
  sort?: (a: T, b: T) => number;
}

export function printList<T>(ctx: CommandContext, args: ParsedCommandArgs, items: readonly T[], view: ListView<T>): void {
  if (ctx.json) {
    printJson(ctx.io, items);
    return;
  }
  const shown = view.sort ? [...items].sort(view.sort) : items;
  if (flagValue(args, 'quiet')) ctx.io.stdout.write(shown.map((item) => `${view.key(item)}\n`).join(''));
  else ctx.io.stdout.write(renderTable(view.headers, shown.map(view.row)));
}
