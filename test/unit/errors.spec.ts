import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import { FeatureViewNotFoundException, pythonJsonDumps } from '../../core/src/errors.ts';

describe('Feast errors on the wire', () => {
  it('formats the detail exactly like Python json.dumps', () => {
    expect(pythonJsonDumps({ a: 'x', b: [1, null, true], c: 'é"' })).to.equal('{"a": "x", "b": [1, null, true], "c": "\\u00e9\\""}');
  });

  it('sends "Flight error: {json}" with the Feast class and a NOT_FOUND status', () => {
    const error = new FeatureViewNotFoundException('driver_hourly_stats', 'my_project');
    expect(error.code).to.equal(status.NOT_FOUND);
    expect(error.wireMessage()).to.equal(
      'Flight error: {"module": "feast.errors", "class": "FeatureViewNotFoundException", "message": "Feature view driver_hourly_stats does not exist in project my_project"}',
    );
  });
});
