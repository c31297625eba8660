/**
 * Filtered BC (%BC; CPL's "SFT" baseline, reference/pbrl.md §4.2): behaviour cloning on the preferred
 * segment of every labelled pair. A row's weight is the probability its segment was preferred, so a
 * hard label keeps the winner only and a tie keeps both at half weight.
 */
import { BC, type RowWeighting } from './bc.js';

export class FilteredBC extends BC {
  override readonly name: string = 'pbc';
  protected override readonly weighting: RowWeighting = 'preferred';
}
