export { runCli, buildProgram, reportError } from './program.js';
export { CliError, type CliIo, type CliOutput, type CommandContext, type GlobalOptions } from './commandContext.js';
export { cliCatalog } from './catalog.js';
export { formatTable, type TableColumn, type TableOptions } from './formatTable.js';
export type { IngestReport } from './ingestCommand.js';
export type { CheckResult } from './validateCommand.js';
export type { StatusReport, DeadLetterFile } from './statusCommand.js';
