// Commands taking several names (rm, detach, inspect) go on after a failure, like docker.
import { AgentUnreachableError } from '../../api/client.js';
import type { CommandContext } from '../command.js';
import { EXIT_FAILURE, EXIT_OK } from '../io.js';

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
