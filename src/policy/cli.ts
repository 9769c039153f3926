export async function runPolicyCommand(
  _argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  io.stderr.write('kubegate policy: not implemented yet\n');
  return 2;
}
