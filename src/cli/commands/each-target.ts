// Commands taking several names (rm, detach, inspect) go on after a failure, like docker.
import { AgentUnreachableError } from '../../api/client.js';
import { nameProblem, refProblem } from '../../model/validate.js';
import { usageCheck, type CommandContext } from '../command.js';
import { EXIT_FAILURE, EXIT_OK, printJson } from '../io.js';

export async function eachTarget(
  ctx: CommandContext,
  targets: string[],
  work: (target: string) => Promise<void>,
): Promise<number> {
  let status = EXIT_OK;
  for (const target of targets) {
    try {
      await work(target);
    } catch (error) {
      // An unreachable agent fails every target the same way: say it once.
      if (error instanceof AgentUnreachableError) throw error;
      ctx.reportError(error);
      status = EXIT_FAILURE;
    }
  }
  return status;
}

/** A `kind` given by name, id or id prefix; one starting with '-' was meant as a name (checked as `nameLabel`). */
export function checkRef(kind: string, target: string, nameLabel = `${kind} name`): void {
  usageCheck(target.startsWith('-') ? nameProblem(nameLabel, target) : refProblem(kind, target));
}

/** inspect: every target found, printed as one JSON array (none when everything failed). */
export async function inspectEach<T>(ctx: CommandContext, targets: string[], inspect: (target: string) => Promise<T>): Promise<number> {
  const found: T[] = [];
  const status = await eachTarget(ctx, targets, async (target) => {
    found.push(await inspect(target));
  });
  if (found.length > 0 || status === EXIT_OK) printJson(ctx.io, found);
  return status;
}

/**
 * rm/detach: prints each target done as it goes, or with --json a JSON array of what `remove`
 * returned for each. Under --json stdout holds what was done; when everything failed, only the
 * errors speak.
 */
export async function removeEach(ctx: CommandContext, targets: string[], remove: (target: string) => Promise<string>): Promise<number> {
  const removed: string[] = [];
  const status = await eachTarget(ctx, targets, async (target) => {
    removed.push(await remove(target));
    if (!ctx.json) ctx.io.stdout.write(`${target}\n`);
  });
  if (ctx.json && (removed.length > 0 || status === EXIT_OK)) printJson(ctx.io, removed);
  return status;
}
