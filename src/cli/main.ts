/**
 * The `vigil` command. Every subcommand is a thin shell over the same code the server
 * runs: `config check` runs the config schema, `status` and `dlq list` ask a running
 * server's API (or open the store directly when no server is running).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VigilError } from '../core/errors.js';
import { checkConfigFiles, runDemo, runServe } from './serve.js';
import { dlqReplay } from './dlq-replay.js';
import { dlqList, printStatus } from './inspect.js';
import { runSimulateCommand } from './simulate.js';
import { dbcCommand } from './dbc.js';
import { importCommand, replayCommand } from './import.js';
import { evalCommand, learnCommand } from './eval.js';
import { rulesCommand } from './rules.js';
import { detectionCommand } from './detection.js';
import { vehicleCommand } from './vehicle.js';
import { auditCommand, tokenCommand } from './access.js';
import { intelCommand } from './intel.js';
import { reportCommand } from './report.js';
import { askCommand } from './ask.js';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

const program = new Command('vigil')
  .description('Vigil: an open-source vehicle security operations center')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('demo')
  .description('run the embedded system with a simulated fleet, the API and metrics')
  .option('-c, --config <file>', 'YAML config to start from (the demo adds a simulator source if none)')
  .option('--vehicles <n>', 'simulated vehicles', int, 1000)
  .option('--port <n>', 'HTTP port', int)
  .option('--data-dir <dir>', 'where the store and secret live')
  .option('--memory', 'keep nothing on disk (in-memory store)')
  .option('--mqtt-port <n>', 'port of the embedded MQTT broker (0: any free port)', int, 1884)
  .option('--no-mqtt', 'no embedded MQTT broker')
  .action(runDemo);

program
  .command('serve')
  .description('run Vigil from a config file')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .addOption(new Option('--role <role>', 'all: one process; ingest or worker: a scale-out process (config `scaleout`)').choices(['all', 'ingest', 'worker']).default('all'))
  .action(runServe);

program
  .command('config')
  .description('configuration tools')
  .command('check')
  .description('validate config files; prints every problem at once (exit 1 on any)')
  .argument('<files...>')
  .action(checkConfigFiles);

program
  .command('simulate')
  .description('simulate a fleet: to files (JSONL, candump, labels) or published over MQTT/HTTP')
  .option('--vehicles <n>', 'vehicles', int, 1000)
  .option('--seed <n>', 'random seed', int, 42)
  .option('--duration <s>', 'simulated seconds', int, 60)
  .option('--start <ms>', 'simulated start time, epoch ms (default: now)', int)
  .option('--no-attacks', 'no attack scenarios')
  .option('--malformed-rate <r>', 'fraction of deliberately malformed messages', parseFloat, 0.001)
  .option('-o, --out <dir>', 'write files to this directory')
  .option('--to <url>', 'publish to a running Vigil: mqtt://host:1884 or http://host:8080')
  .option('--speed <x>', 'with --to: simulated seconds per second (0: as fast as accepted)', parseFloat, 1)
  .action(runSimulateCommand);

program
  .command('status')
  .description("print a running server's live counts, rates and queue depths")
  .option('--url <url>', 'server URL', 'http://127.0.0.1:8080')
  .option('--json', 'print JSON')
  .action(printStatus);

const dlq = program.command('dlq').description('the dead-letter store');
dlq
  .command('list')
  .description('list dead letters, newest first')
  .option('--url <url>', 'server URL (used when a server is running)', 'http://127.0.0.1:8080')
  .option('--data-dir <dir>', 'open the store directly when no server answers', './vigil-data')
  .option('--limit <n>', 'rows', int, 20)
  .option('--code <code>', 'only this reason code, e.g. value.out_of_range')
  .option('--source <source>', 'only dead letters from this source')
  .option('--json', 'print JSON lines')
  .action(dlqList);

dlq
  .command('replay')
  .description('send dead letters through the pipeline again (after a fix); removes each once durable')
  .option('--url <url>', 'server URL (used when a server is running)', 'http://127.0.0.1:8080')
  .option('--data-dir <dir>', 'replay on this store with an embedded pipeline when no server answers', './vigil-data')
  .option('--code <code>', 'only this reason code')
  .option('--source <source>', 'only dead letters from this source')
  .option('--tenant <tenant>', 'only this tenant')
  .option('--limit <n>', 'at most this many', int)
  .option('-c, --config <file>', 'config of the embedded pipeline used when no server answers (its dataDir wins)')
  .action(dlqReplay);

program.addCommand(importCommand());
program.addCommand(replayCommand());
program.addCommand(dbcCommand());
program.addCommand(learnCommand());
program.addCommand(evalCommand());
program.addCommand(rulesCommand());
program.addCommand(detectionCommand());
program.addCommand(vehicleCommand());
program.addCommand(tokenCommand());
program.addCommand(auditCommand());
program.addCommand(intelCommand());
program.addCommand(reportCommand());
program.addCommand(askCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof VigilError) {
    process.stderr.write(`vigil: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
