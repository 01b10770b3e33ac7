#!/usr/bin/env python3
"""A SunSpec battery nobody at Flexchain wrote the register map of.

The map is laid out from the SunSpec model definitions that pysunspec2 ships
(models 1, 701, 704, 713 and 124, or 802 with --soc-model 802), served over Modbus
TCP by pymodbus, with state-of-charge physics on the market clock. It behaves as
the standard says, not as the bridge expects: points are read-only or writable as
their definition says (a write to a read-only point is an exception), a scale factor
is what the device chooses, a setpoint reverts when its reversion timer runs out
(704 `WSetRvrtTms`: `WSetEna` and `WSet` take their `...Rvrt` values; 124
`InOutWRte_RvrtTms`: `StorCtl_Mod` back to 0) and `MinRsvPct` / `SoCRsvMin` are the
battery's floor.

    sunspec_battery.py --port 5020 --scale 60 --epoch-ms ... [--state FILE]
    sunspec_battery.py --scan 127.0.0.1 5020     # scan a device with pysunspec2's client

The state file (JSON, rewritten a few times a second) tells a test what the battery
did: power, state of charge, energy registers, the setpoints written.
"""

import argparse
import asyncio
import json
import os
import sys
import time

import sunspec2.mdef as mdef
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

BASE = 40000
NOT_IMPL = {"int16": 0x8000, "uint16": 0xFFFF, "enum16": 0xFFFF, "sunssf": 0x8000,
            "bitfield16": 0xFFFF, "int32": 0x80000000, "uint32": 0xFFFFFFFF,
            "bitfield32": 0xFFFFFFFF, "uint64": 0xFFFFFFFFFFFFFFFF, "acc32": 0,
            "acc64": 0, "pad": 0, "string": 0, "count": 0}
WRITE_FUNCTIONS = (6, 16, 23)


def model_def(model_id):
    return mdef.from_json_file(os.path.join(
        os.path.dirname(mdef.__file__), "models", "json", f"model_{model_id}.json"))


def layout(group, start, out, prefix=""):
    """Point name -> (address, size, type, access) for a group and its sub-groups."""
    addr = start
    for p in group.get("points", []):
        out[prefix + p["name"]] = (addr, p["size"], p["type"], p.get("access", "R"))
        addr += p["size"]
    for g in group.get("groups", []):
        count = g.get("count", 1)
        count = count if isinstance(count, int) else 1
        for i in range(count):
            addr = layout(g, addr, out, f"{prefix}{g['name']}[{i}].")
    return addr


class Battery:
    def __init__(self, args):
        self.args = args
        self.capacity_wh = args.capacity_wh
        self.soc = args.soc / 100.0
        self.max_w = args.max_power_w
        self.exported = 0.0
        self.imported = 0.0
        self.power = 0.0
        self.setpoint = 0.0
        self.revert_at = None
        self.writes = []
        self.at = self.now_ms()
        models = [1, 701, 704, 713 if args.soc_model == 713 else 802, 124]
        self.points = {}
        self.models = {}
        regs = [0x5375, 0x6E53]
        addr = BASE + 2
        for mid in models:
            d = model_def(mid)
            pts = {}
            end = layout(d["group"], addr, pts)
            self.models[mid] = (addr, pts)
            length = end - addr - 2
            for name, (a, size, typ, _) in pts.items():
                self.points[(mid, name)] = (a, size, typ, _)
            regs.extend([0] * (end - addr))
            addr = end
        regs.extend([0xFFFF, 0])
        self.regs = regs
        for mid in models:
            start, pts = self.models[mid]
            for name, (a, size, typ, _) in pts.items():
                self.put(mid, name, NOT_IMPL.get(typ, 0))
            self.put(mid, "ID", mid)
            self.put(mid, "L", (max(a + s for a, s, _, _ in pts.values()) - start) - 2)
        self.init_points()

    # Registers
    def addr(self, mid, name):
        return self.points[(mid, name)][0]

    def put(self, mid, name, value):
        a, size, typ, _ = self.points[(mid, name)]
        if typ == "string":
            raw = str(value).encode()[: size * 2].ljust(size * 2, b"\0")
            words = [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)]
        else:
            value = int(value) & ((1 << (16 * size)) - 1)
            words = [(value >> (16 * (size - 1 - i))) & 0xFFFF for i in range(size)]
        self.regs[a - BASE: a - BASE + size] = words

    def get(self, mid, name, signed=False):
        a, size, typ, _ = self.points[(mid, name)]
        v = 0
        for w in self.regs[a - BASE: a - BASE + size]:
            v = (v << 16) | w
        if typ.startswith("int") or typ == "sunssf":
            if v >= 1 << (16 * size - 1):
                v -= 1 << (16 * size)
        return v

    def scaled(self, mid, name, sf_name):
        return self.get(mid, name, True) * 10 ** self.get(mid, sf_name)

    def init_points(self):
        self.put(1, "Mn", "pysunspec2 peer")
        self.put(1, "Md", "ReferenceBattery")
        self.put(1, "SN", "PY-1")
        self.put(1, "DA", 1)
        for sf in ("W_SF", "TotWh_SF", "A_SF", "V_SF", "Hz_SF", "PF_SF", "VA_SF", "Var_SF"):
            self.put(701, sf, 0)
        # A device's own choice of scale: setpoints in tens of watts.
        self.put(704, "WSet_SF", 1)
        self.put(704, "WSetEna", 0)
        self.put(704, "WSetMod", 1)
        self.put(704, "WSet", 0)
        self.put(704, "WSetRvrt", 0)
        self.put(704, "WSetEnaRvrt", 0)
        self.put(704, "WSetRvrtTms", 0)
        if self.args.soc_model == 713:
            self.put(713, "WH_SF", 1)
            self.put(713, "Pct_SF", -2)
            self.put(713, "WHRtg", round(self.capacity_wh / 10))
        else:
            self.put(802, "WHRtg_SF", 1)
            self.put(802, "SoC_SF", -2)
            self.put(802, "WHRtg", round(self.capacity_wh / 10))
            self.put(802, "SoCRsvMin", round(self.args.reserve * 100))
        self.put(124, "WChaMax_SF", 1)
        self.put(124, "WChaMax", round(self.max_w / 10))
        self.put(124, "MinRsvPct_SF", -2)
        self.put(124, "MinRsvPct", round(self.args.reserve * 100))
        self.put(124, "ChaState_SF", -2)
        self.put(124, "InOutWRte_SF", -2)
        self.put(124, "StorCtl_Mod", 0)
        self.put(124, "OutWRte", 10000)
        self.put(124, "InWRte", 10000)
        self.put(124, "InOutWRte_RvrtTms", 0)
        self.refresh()

    # Physics on the market clock
    def now_ms(self):
        real = time.time() * 1000
        return self.args.market_epoch_ms + (real - self.args.epoch_ms) * self.args.scale

    def reserve(self):
        floors = [self.scaled(124, "MinRsvPct", "MinRsvPct_SF")]
        if self.args.soc_model == 802:
            floors.append(self.scaled(802, "SoCRsvMin", "SoC_SF"))
        return max(f for f in floors if 0 <= f <= 100) / 100.0

    def step(self, until):
        hours = max(until - self.at, 0) / 3_600_000
        want = max(-self.max_w, min(self.max_w, self.setpoint))
        if want > 0:
            room = max((self.soc - self.reserve()) * self.capacity_wh, 0)
            e = min(want * hours, room)
            self.exported += e
            self.soc -= e / self.capacity_wh
            self.power = want if e >= want * hours - 1e-9 and room > 1e-6 else 0
        elif want < 0:
            room = max((1 - self.soc) * self.capacity_wh, 0)
            e = min(-want * hours, room)
            self.imported += e
            self.soc += e / self.capacity_wh
            self.power = want if room > 1e-6 else 0
        else:
            self.power = 0
        self.at = until

    def advance(self):
        now = self.now_ms()
        if self.revert_at is not None and self.revert_at <= now:
            self.step(self.revert_at)
            self.revert()
        self.step(now)

    def revert(self):
        self.revert_at = None
        if self.get(704, "WSetEna") == 1:
            self.put(704, "WSetEna", self.get(704, "WSetEnaRvrt"))
            self.put(704, "WSet", self.get(704, "WSetRvrt"))
        self.put(124, "StorCtl_Mod", 0)
        self.apply_setpoint(start_timer=False)

    def apply_setpoint(self, start_timer=True):
        if self.get(704, "WSetEna") == 1:
            if self.get(704, "WSetMod") == 1:
                watts = self.scaled(704, "WSet", "WSet_SF")
            else:
                watts = self.get(704, "WSetPct", True) / 100 * self.max_w
            tms = self.get(704, "WSetRvrtTms")
        else:
            mode = self.get(124, "StorCtl_Mod")
            pct = lambda n: self.scaled(124, n, "InOutWRte_SF") / 100
            watts = pct("OutWRte") * self.max_w if mode & 2 else (
                -pct("InWRte") * self.max_w if mode & 1 else 0)
            tms = self.get(124, "InOutWRte_RvrtTms")
            tms = 0 if tms == 0xFFFF else tms
        self.setpoint = watts
        if start_timer:
            self.revert_at = self.now_ms() + tms * 1000 if tms else None

    def refresh(self):
        self.advance()
        self.put(701, "W", round(self.power))
        self.put(701, "TotWhInj", int(self.exported))
        self.put(701, "TotWhAbs", int(self.imported))
        soc = round(self.soc * 10000)
        if self.args.soc_model == 713:
            self.put(713, "SoC", soc)
        else:
            self.put(802, "SoC", soc)
            self.put(802, "W", round(self.power))
        self.put(124, "ChaState", soc)

    def writable(self, address, count):
        for a in range(address, address + count):
            hit = [p for p in self.points.values() if p[0] <= a < p[0] + p[1]]
            if not hit or hit[0][3] != "RW":
                return False
        return True

    async def action(self, fc, start, address, count, registers, values):
        self.regs = registers if len(registers) == len(self.regs) else self.regs
        if values is None:
            self.refresh()
            registers[:] = self.regs
            return None
        if fc not in WRITE_FUNCTIONS or not self.writable(address, len(values)):
            return ExcCodes.ILLEGAL_ADDRESS
        self.advance()
        self.regs[address - BASE: address - BASE + len(values)] = list(values)
        self.writes.append({"at_ms": self.now_ms(), "address": address, "values": list(values)})
        self.apply_setpoint()
        registers[:] = self.regs
        return None

    def state(self):
        self.advance()
        return {"at_ms": self.now_ms(), "soc_percent": self.soc * 100, "power_w": self.power,
                "exported_wh": self.exported, "imported_wh": self.imported,
                "setpoint_w": self.setpoint, "reserve_percent": self.reserve() * 100,
                "writes": self.writes[-50:]}


async def write_state(battery, path):
    while True:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(battery.state(), f)
        os.replace(tmp, path)
        await asyncio.sleep(0.05)


async def serve(args):
    battery = Battery(args)
    device = SimDevice(
        id=0,
        simdata=[SimData(BASE, values=battery.regs, datatype=DataType.REGISTERS)],
        action=battery.action,
    )
    server = ModbusTcpServer(device, address=("127.0.0.1", args.port))
    if args.state:
        asyncio.get_running_loop().create_task(write_state(battery, args.state))
    print(f"sunspec peer on 127.0.0.1:{args.port}: models {list(battery.models)}", flush=True)
    await server.serve_forever()


def scan(host, port):
    """Scans a device with pysunspec2's own client and prints its models."""
    from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP
    d = SunSpecModbusClientDeviceTCP(slave_id=1, ipaddr=host, ipport=int(port))
    d.scan()
    ids = [m for m in d.models if isinstance(m, int)]
    out = {"models": ids}
    if 701 in ids:
        m = d.models[701][0]
        m.read()
        out["TotWhInj"] = m.TotWhInj.value
        out["W"] = m.W.cvalue
    if 124 in ids:
        out["MinRsvPct"] = d.models[124][0].MinRsvPct.cvalue
    d.close()
    print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scan", nargs=2, metavar=("HOST", "PORT"))
    p.add_argument("--port", type=int, default=5020)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--epoch-ms", type=float, default=time.time() * 1000)
    p.add_argument("--market-epoch-ms", type=float)
    p.add_argument("--capacity-wh", type=float, default=13_500)
    p.add_argument("--soc", type=float, default=50)
    p.add_argument("--reserve", type=float, default=5)
    p.add_argument("--max-power-w", type=float, default=10_000)
    p.add_argument("--soc-model", type=int, choices=(713, 802), default=713)
    p.add_argument("--state")
    args = p.parse_args()
    if args.scan:
        scan(*args.scan)
        return
    if args.market_epoch_ms is None:
        args.market_epoch_ms = args.epoch_ms
    asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
