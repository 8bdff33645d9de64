// The `vlmc` command: parses arguments and dispatches to the command modules.
import { Command } from "commander";
import { registerBenchCommands } from "./bench.js";
import { registerDataCommands } from "./data.js";
import { registerTrainCommands } from "./train.js";
import { registerEvalCommands } from "./eval.js";
import { reportAndExit } from "./errors.js";

const program = new Command();
program
  .name("vlmc")
  .description("vlm-compress: build, train, run and compress LLaVA-style vision-language models")
  .version("0.1.0")
  .showHelpAfterError();
registerDataCommands(program);
registerTrainCommands(program);
registerEvalCommands(program);
registerBenchCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  reportAndExit(err);
}
