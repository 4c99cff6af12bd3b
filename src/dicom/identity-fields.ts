import { headerFieldText, type HeaderDataset } from './header';

/**
 * The header values of `keywords`, in order, as text (PN in its DICOM string form, multiple values
 * joined by '\', '' when absent). These are patient data: never log them.
 */
export function readIdentityFields(
  header: HeaderDataset,
  keywords: readonly string[],
): [string, string][] {
  return keywords.map((keyword) => [keyword, headerFieldText(header, keyword)]);
}
