import { createRequire } from 'node:module';
import { Field, Float64, List, Schema, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import { assertOwnArrowCopy } from '../../core/src/api/arrow-copy.ts';

// The CommonJS copy of apache-arrow, as a plugin using require() would get it.
const cjs = createRequire(import.meta.url)('apache-arrow');

describe('Arrow data from a second apache-arrow copy', () => {
  it("accepts this copy's types, nested ones included", () => {
    const schema = new Schema([new Field('x', new Float64()), new Field('l', new List(new Field('item', new Utf8())))]);
    expect(() => assertOwnArrowCopy(schema, 'The offline store')).not.to.throw();
  });

  it('refuses a column whose type comes from the CommonJS copy, naming the column and the fix', () => {
    const foreign = new cjs.Table({ rate: cjs.vectorFromArray([0.5], new cjs.Float64()) });
    expect(() => assertOwnArrowCopy(foreign.schema, 'The offline store')).to.throw(
      /different copy of apache-arrow \(column "rate"\).*load apache-arrow with `import`, not `require`/,
    );
  });
});
