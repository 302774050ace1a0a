/**
 * The message for `stead <mistyped>`: `stead: unknown command "aply"; did you mean "apply"?`.
 * The suggestion comes from the compiler's did-you-mean, imported lazily so the agent shipped
 * without the compiler (docs/adr/0001) still starts; without it there is simply no suggestion.
 */
export async function unknownCommand(name: string, commands: readonly string[]): Promise<string> {
  let guess: string | undefined;
  try {
    const { didYouMean } = await import('../compiler/manifest/did-you-mean.js');
    guess = didYouMean(name, commands);
  } catch {
    guess = undefined;
  }
  return `stead: unknown command "${name}"${guess !== undefined ? `; did you mean "${guess}"?` : ''}`;
}
