/**
 * Musical edits of note lists (delete, add on the grid, shift by frames, lengthen/shorten, octave):
 * the public API of src/edits. Used by the robustness attack (src/robustness) and by anything else
 * that perturbs an excerpt in notes rather than in roll cells.
 */
export {
  EDIT_KINDS,
  editGrid,
  editedNote,
  type EditGrid,
  type EditKind,
  type NoteEdit,
} from './types.ts';
export { applyEdits, editNote, renderEdited } from './apply.ts';
export {
  EDIT_COSTS,
  EDIT_FLAGS,
  EditCandidates,
  LOCAL_SECONDS,
  RESIZE_FRAMES,
  SHIFT_FRAMES,
  SMALL_EDIT_COST,
  type EditContext,
  type EditFlag,
} from './candidates.ts';
export {
  costInWords,
  describeEdit,
  pitchName,
  type DescribedEdit,
  type EditCostInput,
  type EditPlace,
} from './describe.ts';
