/**
 * Casting an incoming column to the type a parquet file already has (Feast casts with pyarrow
 * before appending): between integer and float widths, and between timestamp units and time
 * zones. Anything else must already match exactly.
 */
import { InvalidArgumentError } from '@larder/core';
import { makeData, Type, TimeUnit, type Data, type DataType } from 'apache-arrow';
import { instantsOfData } from './timestamps.ts';

/** Microseconds per unit, for the units coarser than a nanosecond. */
const MICROS_PER: Record<number, number> = {
  [TimeUnit.SECOND]: 1e6,
  [TimeUnit.MILLISECOND]: 1e3,
  [TimeUnit.MICROSECOND]: 1,
};

export function castData(data: Data, to: DataType, column: string): Data {
  if (String(data.type) === String(to)) return data;
  const from = data.type as DataType & { unit?: number };
  const base = { type: to, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap } as const;
  if ((from.typeId === Type.Int || from.typeId === Type.Float) && (to.typeId === Type.Int || to.typeId === Type.Float)) {
    const Target = (to as DataType & { ArrayType: new (n: number) => ArrayLike<number | bigint> & { [i: number]: number | bigint } })
      .ArrayType;
    const out = new Target(data.length);
    const source = data.values as ArrayLike<number | bigint>;
    const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
    for (let i = 0; i < data.length; i++) {
      const v = source[i]!;
      out[i] = big ? BigInt(Math.trunc(Number(v))) : Number(v);
    }
    return makeData({ ...base, data: out } as never);
  }
  if (from.typeId === Type.Timestamp && to.typeId === Type.Timestamp) {
    const unit = (to as DataType & { unit: number }).unit;
    const instants = instantsOfData(data);
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const us = instants.us[i]!;
      if (Number.isNaN(us)) continue;
      // Divide, never multiply, in doubles: µs since the epoch times 1e6 is past 2^53.
      out[i] = unit === TimeUnit.NANOSECOND ? BigInt(us) * 1000n + BigInt(instants.ns[i]!) : BigInt(Math.floor(us / MICROS_PER[unit]!));
    }
    return makeData({ ...base, data: out } as never);
  }
  throw new InvalidArgumentError(`Column "${column}" has type ${String(from)}, which cannot be written to a column of type ${String(to)}`);
}
