import { buildMessage, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * Length in Unicode code points: what PostgreSQL's char_length() counts in a UTF-8 database.
 * (String#length counts UTF-16 units, so an emoji counts twice; validator.js's isLength, behind
 * class-validator's @Length, also skips variation selectors. Either would let a title the
 * database refuses through, and a CHECK violation is a 500.)
 */
export function codePointLength(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point; a lone surrogate counts alone.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}

/** A string of `min` to `max` code points. Leaves non-strings to @IsString. */
export function HasCodePointLength(min: number, max: number, options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'hasCodePointLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return true;
          const length = codePointLength(value);
          return length >= min && length <= max;
        },
        defaultMessage: buildMessage((each) =>
          min === 0
            ? `${each}$property must be at most $constraint2 characters long`
            : `${each}$property must be between $constraint1 and $constraint2 characters long`,
        ),
      },
    },
    options,
  );
}

/**
 * Text PostgreSQL can store as sent: well-formed UTF-16 (a lone surrogate would be silently
 * replaced by U+FFFD on the way to UTF-8) and no NUL character (which `text` cannot hold: the
 * database would answer with an error, and the client with a 500). Leaves non-strings to
 * @IsString.
 */
export function IsStorableText(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isStorableText',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || (value.isWellFormed() && !value.includes('\0')),
        defaultMessage: buildMessage(
          (each) =>
            `${each}$property must be valid Unicode text without NUL characters or lone surrogates`,
        ),
      },
    },
    options,
  );
}

/** An integer from `min` to `max`, one message for every way of missing it. */
export function IsIntegerBetween(min: number, max: number, options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isIntegerBetween',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) =>
          typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
        defaultMessage: buildMessage(
          (each) => `${each}$property must be an integer from $constraint1 to $constraint2`,
        ),
      },
    },
    options,
  );
}

/** Query strings carry text: a plain decimal integer becomes a number, anything else stays. */
export function integerFromQuery({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : value;
}

/** Query strings carry text: exactly `true` or `false` become booleans, anything else stays. */
export function booleanFromQuery({ value }: { value: unknown }): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}
