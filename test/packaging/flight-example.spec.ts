/**
 * The @larder/flight README's example (packages/flight/examples/table-server.ts), served to a real
 * pyarrow.flight client: list, get, put, and the error a missing table gets.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tableFromArrays, type Table } from 'apache-arrow';
import { expect } from 'chai';
import { tableServer } from '../../packages/flight/examples/table-server.ts';
import type { FlightServer } from '../../packages/flight/src/index.ts';
import { feastPython } from '../support/feast-python.ts';

const run = promisify(execFile);

const CLIENT = `
import json, sys
import pyarrow as pa, pyarrow.flight as fl
c = fl.connect(sys.argv[1])
out = {"listed": sorted(i.descriptor.path[0].decode() for i in c.list_flights())}
out["squares"] = c.do_get(fl.Ticket(b"squares")).read_all().to_pydict()
w, _ = c.do_put(fl.FlightDescriptor.for_path("cubes"), pa.schema([("n", pa.int32()), ("cube", pa.int64())]))
w.write_table(pa.table({"n": pa.array([2, 3], pa.int32()), "cube": pa.array([8, 27], pa.int64())}))
w.close()
out["cubes"] = c.do_get(fl.Ticket(b"cubes")).read_all().to_pydict()
try:
    c.do_get(fl.Ticket(b"nope")).read_all()
except pa.ArrowKeyError as e:  # NOT_FOUND
    out["missing"] = str(e).split(". gRPC")[0]
print(json.dumps(out))
`;

describe('@larder/flight: the README example, called by pyarrow.flight', () => {
  let server: FlightServer;
  let port: number;
  const tables = new Map<string, Table>([
    ['squares', tableFromArrays({ n: Int32Array.from([1, 2, 3]), square: Int32Array.from([1, 4, 9]) })],
  ]);

  before(async () => {
    server = tableServer(tables, 0);
    ({ port } = await server.start());
  });
  after(() => server.shutdown(1_000));

  it('lists, serves, accepts a DoPut and names a missing table', async () => {
    const { stdout } = await run(feastPython().python, ['-c', CLIENT, `grpc://127.0.0.1:${port}`], { timeout: 60_000 });
    const out = JSON.parse(stdout);
    expect(out.listed).to.deep.equal(['squares']);
    expect(out.squares).to.deep.equal({ n: [1, 2, 3], square: [1, 4, 9] });
    expect(out.cubes).to.deep.equal({ n: [2, 3], cube: [8, 27] });
    expect(tables.get('cubes')?.numRows).to.equal(2);
    expect(out.missing).to.equal('Flight returned not found error, with message: No table named "nope"');
  });
});
