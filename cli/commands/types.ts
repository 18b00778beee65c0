/** A `blc` subcommand: a one-line summary for the usage text and its entry point (returns the exit code). */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}
