/** A text field of a submitted form ('' when missing; file inputs are not used here). */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}
