/**
 * On-demand feature views over the example repo's driver_hourly_stats, added to its definitions
 * before `feast apply`: Feast quick-start's views and feature services (the conformance repo's
 * quickstart_odfvs.py, inlined, so both suites test the same definitions), plus a python-mode
 * view, and one slow enough (30 s) to be interrupted, which says when it starts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFORMANCE_DIR } from './feast-repo.ts';

// Inlined into definitions.py, which defines driver_hourly_stats itself.
const QUICKSTART = readFileSync(join(CONFORMANCE_DIR, 'feature_repo', 'quickstart_odfvs.py'), 'utf8').replace(
  /^from definitions import .*$/m,
  '',
);

export const ODFV_DEFINITIONS = `${QUICKSTART}

@on_demand_feature_view(sources=[driver_hourly_stats], schema=[Field(name="acc_rate_doubled", dtype=Float64)], mode="python")
def acc_rate_doubled(inputs: dict) -> dict:
    return {"acc_rate_doubled": [x * 2 for x in inputs["acc_rate"]]}

@on_demand_feature_view(sources=[driver_hourly_stats], schema=[Field(name="slow_rate", dtype=Float64)], mode="python")
def slow_view(inputs: dict) -> dict:
    import time  # the UDF is pickled alone: module-level imports do not travel with it
    print("slow_view started", flush=True)  # the worker sends print() to stderr, which larder logs at debug
    time.sleep(30)
    return {"slow_rate": inputs["conv_rate"]}
`;
