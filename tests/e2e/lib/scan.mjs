// What a keyboard-wedge barcode scanner types: GS1 element strings with the
// symbology identifier and FNC1 sent as the ASCII group separator.

/** The ASCII group separator a scanner sends for FNC1. */
export const GS = '\u001d';

/** `digits` (7, 11, 12 or 13 of them) with the GS1 mod-10 check digit appended. */
export function withCheckDigit(digits) {
  const sum = [...digits]
    .reverse()
    .reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 3 : 1), 0);
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

/**
 * A GS1 DataMatrix as scanned: `]d2`, AI 01 (GTIN-14), AI 10 (lot, ended by
 * the group separator because it is variable length), AI 17 (expiry YYMMDD).
 * `expiry` is an ISO date (`2073-06-30`).
 */
export function dataMatrix({ gtin, lot, expiry }) {
  const gtin14 = gtin.padStart(14, '0');
  const yymmdd = expiry.slice(2).replaceAll('-', '');
  return `]d201${gtin14}10${lot}${GS}17${yymmdd}`;
}
