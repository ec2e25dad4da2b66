/** Shell text the renderers share. */

/** `text` as one single-quoted word for bash (and for a KEY=value line that bash sources). */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
