// vxmesh doctor: the agent checks its host (kernel features, sysctls, nft table, every namespace's
// links/FDB/neighbours against the store, gossip members, MTU, store) and says, per check, OK or
// what is wrong and the command that fixes it. Exit 0 only when every check passes.
import type { DoctorCheckResult } from '../../model/api.js';
import { withClient, type Command } from '../command.js';
import { EXIT_FAILURE, EXIT_OK, printJson } from '../io.js';

function line(r: DoctorCheckResult): string {
  const head = `${r.ok ? 'OK  ' : 'FAIL'} ${r.check}${r.subject ? ` [${r.subject}]` : ''}: ${r.detail}\n`;
  return r.ok || !r.fix ? head : `${head}     fix: ${r.fix}\n`;
}

const doctor: Command = {
  path: ['doctor'],
  summary: 'Check this host and say, per check, OK or what is wrong and how to fix it.',
  args: '',
  minPositionals: 0,
  maxPositionals: 0,
  options: {},
  details: 'Exits 0 only when every check passes (1 otherwise). --json prints {ok, checks: [{check, subject, ok, detail, fix}]}.',
  async run(ctx) {
    const report = await withClient(ctx, (client) => client.doctor());
    if (ctx.json) printJson(ctx.io, report);
    else {
      const failed = report.checks.filter((c) => !c.ok).length;
      ctx.io.stdout.write(report.checks.map(line).join('') + (failed ? `${failed} of ${report.checks.length} checks failed\n` : `all ${report.checks.length} checks passed\n`));
    }
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  },
};

export const doctorCommands: Command[] = [doctor];
