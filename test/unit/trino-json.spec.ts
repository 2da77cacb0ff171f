/**
 * plugins/trino/src/trino-json.ts: Trino's JSON answers parsed with every integer that a double
 * cannot hold exactly kept as its decimal string (bigint ids beyond 2^53 stay exact), and nothing
 * else changed — digits inside strings, escaped quotes, floats and exponents included.
 */
import { expect } from 'chai';
import { parseTrinoJson } from '../../plugins/trino/src/trino-json.ts';

describe('trino: parseTrinoJson', () => {
  it('keeps integers beyond 2^53 exact as decimal strings, in data and nested arrays', () => {
    const text =
      '{"data":[[9007199254740993,-9223372036854775808,[12345678901234567890]],[9007199254740991,1.2345678901234567E19,1234567890123456.5]]}';
    expect(parseTrinoJson(text)).to.deep.equal({
      data: [
        ['9007199254740993', '-9223372036854775808', ['12345678901234567890']],
        [9007199254740991, 1.2345678901234567e19, 1234567890123456.5],
      ],
    });
    // What plain JSON.parse would have returned: another id.
    expect((JSON.parse(text) as { data: number[][] }).data[0]![0]).to.equal(9007199254740992);
  });

  it('leaves digits inside strings, escaped quotes included, untouched', () => {
    const text = '{"nextUri":"http://h/v1/statement/12345678901234567890/1","data":[["a \\"9007199254740993\\" b", 9007199254740993]]}';
    expect(parseTrinoJson(text)).to.deep.equal({
      nextUri: 'http://h/v1/statement/12345678901234567890/1',
      data: [['a "9007199254740993" b', '9007199254740993']],
    });
  });

  it('parses text without long digit runs as JSON.parse does', () => {
    const text = '{"columns":[{"name":"x","type":"bigint"}],"data":[[1,-2,3.5,null,true,"NaN"]]}';
    expect(parseTrinoJson(text)).to.deep.equal(JSON.parse(text));
  });
});
