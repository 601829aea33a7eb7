/** The notifier's dead letters: `<lake dead-letter prefix>/alerts`, e.g. `deadletter/alerts`. */
export function alertsDeadLetterPrefix(deadLetterPrefix: string): string {
  return `${deadLetterPrefix}/alerts`;
}
