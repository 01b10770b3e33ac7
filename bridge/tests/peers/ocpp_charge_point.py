#!/usr/bin/env python3
"""A V2G charge point nobody at Flexchain wrote: OCPP 1.6J from the `ocpp` library
(mobilityhouse) over `websockets`, with a car's battery behind it.

It behaves as OCPP 1.6 says and as a charger ships, not as the bridge expects:
- configuration as shipped: `ClockAlignedDataInterval` 0 (no clock-aligned values
  until someone asks), `MeterValuesAlignedData` and `MeterValuesSampledData`
  `Energy.Active.Import.Register`, `MeterValueSampleInterval` 0; a list naming a
  measurand it cannot measure is `Rejected`, an unknown key `NotSupported`;
- meter values only as configured: clock-aligned ones (`Sample.Clock`) with the
  aligned measurands, triggered ones (`TriggerMessage`) with the sampled measurands;
- `DataTransfer` answered `UnknownVendorId`;
- charging profiles as the standard stacks them (TxProfile over TxDefaultProfile,
  highest stack level first), each only between its `validFrom` and `validTo` and
  within its schedule's `duration`: a profile whose time is over no longer applies,
  whoever forgot to clear it. A negative limit discharges the car (the V2G vendor
  convention the bridge's configuration names); without a profile the car, at its
  charge target, draws nothing. The car will not go below its own reserve.

    ocpp_charge_point.py --url ws://127.0.0.1:9000/ocpp --id CP-PY --scale 60 \\
        --epoch-ms ... [--state FILE]
"""

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    RegistrationStatus,
    TriggerMessageStatus,
)

MEASURANDS = {
    "Energy.Active.Import.Register", "Energy.Active.Export.Register",
    "Power.Active.Import", "Power.Active.Export", "SoC",
}


class Car:
    """The car's battery on the market clock."""

    def __init__(self, args):
        self.args = args
        self.capacity = args.capacity_wh
        self.soc = args.soc / 100
        self.reserve = args.reserve / 100
        self.exported = 0.0
        self.imported = 0.0
        self.power = 0.0
        self.at = self.now_ms()

    def now_ms(self):
        return self.args.market_epoch_ms + (time.time() * 1000 - self.args.epoch_ms) * self.args.scale

    def advance(self, until, setpoint):
        hours = max(until - self.at, 0) / 3_600_000
        want = max(-self.args.max_power_w, min(self.args.max_power_w, setpoint))
        if want > 0:
            room = max((self.soc - self.reserve) * self.capacity, 0)
            e = min(want * hours, room)
            self.exported += e
            self.soc -= e / self.capacity
            self.power = want if room > 1e-6 else 0
        elif want < 0:
            room = max((1 - self.soc) * self.capacity, 0)
            e = min(-want * hours, room)
            self.imported += e
            self.soc += e / self.capacity
            self.power = want if room > 1e-6 else 0
        else:
            self.power = 0
        self.at = max(self.at, until)


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000 if s else None


class Peer(ChargePoint):
    def __init__(self, cid, ws, car, args, state):
        super().__init__(cid, ws)
        self.car = car
        self.args = args
        self.shared = state
        self.config = state.setdefault("config", {
            "ClockAlignedDataInterval": "0",
            "MeterValuesAlignedData": "Energy.Active.Import.Register",
            "MeterValuesSampledData": "Energy.Active.Import.Register",
            "MeterValueSampleInterval": "0",
            "HeartbeatInterval": "300",
            "ChargeProfileMaxStackLevel": "8",
            "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
        })
        self.profiles = state.setdefault("profiles", {})
        self.received = state.setdefault("received", {})
        self.meter_sent = state.setdefault("meter_values", [])
        self.wake = asyncio.Event()

    # The power the profiles in force ask for, W (positive = discharge).
    def setpoint(self, now):
        best = None
        for p in self.profiles.values():
            if p["from"] is not None and now < p["from"]:
                continue
            if p["to"] is not None and now >= p["to"]:
                continue
            rank = (p["purpose"] == "TxProfile", p["stack"])
            if best is None or rank > best[0]:
                best = (rank, p)
        if best is None:
            return 0.0
        p = best[1]
        limit = p["limit"]
        watts = limit if p["unit"] == "W" else limit * self.args.voltage * p["phases"]
        return -watts

    def next_change(self, now):
        times = [t for p in self.profiles.values() for t in (p["from"], p["to"]) if t and t > now]
        return min(times) if times else None

    def advance(self):
        now = self.car.now_ms()
        # Step through every profile boundary on the way.
        while True:
            t = self.next_change(self.car.at)
            if t is None or t > now:
                break
            self.car.advance(t, self.setpoint(self.car.at))
        self.car.advance(now, self.setpoint(now))

    def count(self, action):
        self.received[action] = self.received.get(action, 0) + 1

    def values(self, measurands, context):
        self.advance()
        c = self.car
        table = {
            "Energy.Active.Import.Register": (f"{c.imported:.0f}", "Wh"),
            "Energy.Active.Export.Register": (f"{c.exported:.0f}", "Wh"),
            "Power.Active.Import": (f"{max(-c.power, 0):.0f}", "W"),
            "Power.Active.Export": (f"{max(c.power, 0):.0f}", "W"),
            "SoC": (f"{c.soc * 100:.2f}", "Percent"),
        }
        out = []
        for m in measurands.split(","):
            m = m.strip()
            if m in table:
                v, unit = table[m]
                out.append({"value": v, "context": context, "measurand": m, "unit": unit})
        return out

    async def send_meter(self, measurands, context, at_ms):
        stamp = datetime.fromtimestamp(at_ms / 1000, timezone.utc).isoformat()
        mv = [{"timestamp": stamp, "sampled_value": self.values(measurands, context)}]
        req = call.MeterValues(connector_id=1, meter_value=mv,
                               transaction_id=self.shared.get("transaction"))
        self.meter_sent.append({"context": context, "at_ms": at_ms, "values": mv[0]["sampled_value"]})
        del self.meter_sent[:-200]
        await self.call(req)

    async def run_session(self):
        r = await self.call(call.BootNotification(charge_point_model="PyV2G",
                                                  charge_point_vendor="ReferencePeer"))
        if r.status != RegistrationStatus.accepted:
            raise RuntimeError(f"boot {r.status}")
        self.config["HeartbeatInterval"] = str(r.interval)
        await self.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        if self.shared.get("transaction") is None:
            self.advance()
            r = await self.call(call.StartTransaction(
                connector_id=1, id_tag="V2G-CAR", meter_start=int(self.car.imported),
                timestamp=datetime.now(timezone.utc).isoformat()))
            self.shared["transaction"] = r.transaction_id
        await self.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        last_beat = time.monotonic()
        while True:
            interval = int(self.config["ClockAlignedDataInterval"])
            now = self.car.now_ms()
            nxt = (now // (interval * 1000) + 1) * interval * 1000 if interval > 0 else None
            wait = (nxt - now) / 1000 / self.args.scale if nxt else 0.2
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=max(wait, 0.001))
                self.wake.clear()
                continue
            except asyncio.TimeoutError:
                pass
            if nxt:
                await self.send_meter(self.config["MeterValuesAlignedData"], "Sample.Clock", nxt)
            beat = int(self.config["HeartbeatInterval"]) / self.args.scale
            if time.monotonic() - last_beat >= beat:
                await self.call(call.Heartbeat())
                last_beat = time.monotonic()

    @on(Action.change_configuration)
    async def on_change_configuration(self, key, value, **_):
        self.count("ChangeConfiguration")
        if key not in self.config:
            return call_result.ChangeConfiguration(status=ConfigurationStatus.not_supported)
        if key in ("MeterValuesAlignedData", "MeterValuesSampledData"):
            if not all(m.strip() in MEASURANDS for m in value.split(",")):
                return call_result.ChangeConfiguration(status=ConfigurationStatus.rejected)
        elif not value.isdigit():
            return call_result.ChangeConfiguration(status=ConfigurationStatus.rejected)
        self.config[key] = value
        self.wake.set()
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    @on(Action.get_configuration)
    async def on_get_configuration(self, key=None, **_):
        self.count("GetConfiguration")
        keys = key or list(self.config)
        known = [{"key": k, "readonly": False, "value": self.config[k]} for k in keys if k in self.config]
        unknown = [k for k in keys if k not in self.config]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(self, connector_id, cs_charging_profiles, **_):
        self.count("SetChargingProfile")
        p = cs_charging_profiles
        purpose = p["charging_profile_purpose"]
        s = p["charging_schedule"]
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        if purpose == "TxProfile" and self.shared.get("transaction") is None:
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        if p["stack_level"] > int(self.config["ChargeProfileMaxStackLevel"]):
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        self.advance()
        now = self.car.now_ms()
        start = parse_time(s.get("start_schedule")) or now
        ends = [t for t in (parse_time(p.get("valid_to")),
                            start + s["duration"] * 1000 if s.get("duration") else None) if t]
        period = sorted(s["charging_schedule_period"], key=lambda x: x["start_period"])[0]
        # One profile per purpose and stack level; the same id replaces its old self.
        for k in [k for k, q in self.profiles.items()
                  if q["id"] == p["charging_profile_id"] or (q["purpose"], q["stack"]) == (purpose, p["stack_level"])]:
            del self.profiles[k]
        self.profiles[str(p["charging_profile_id"])] = {
            "id": p["charging_profile_id"], "purpose": purpose, "stack": p["stack_level"],
            "from": parse_time(p.get("valid_from")), "to": min(ends) if ends else None,
            "unit": s["charging_rate_unit"], "limit": float(period["limit"]),
            "phases": period.get("number_phases", 3),
        }
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(self, id=None, connector_id=None,
                                        charging_profile_purpose=None, stack_level=None, **_):
        self.count("ClearChargingProfile")
        self.advance()
        gone = [k for k, q in self.profiles.items()
                if (id is None or q["id"] == id)
                and (charging_profile_purpose is None or q["purpose"] == charging_profile_purpose)
                and (stack_level is None or q["stack"] == stack_level)]
        for k in gone:
            del self.profiles[k]
        status = ClearChargingProfileStatus.accepted if gone else ClearChargingProfileStatus.unknown
        return call_result.ClearChargingProfile(status=status)

    @on(Action.trigger_message)
    async def on_trigger_message(self, requested_message, connector_id=None, **_):
        self.count("TriggerMessage")
        if requested_message == "MeterValues":
            asyncio.get_running_loop().create_task(self.send_meter(
                self.config["MeterValuesSampledData"], "Trigger", self.car.now_ms()))
            return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)
        if requested_message == "Heartbeat":
            asyncio.get_running_loop().create_task(self.call(call.Heartbeat()))
            return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)
        return call_result.TriggerMessage(status=TriggerMessageStatus.not_implemented)

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id, **_):
        self.count("DataTransfer")
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.get_composite_schedule)
    async def on_get_composite_schedule(self, connector_id, duration, **_):
        self.count("GetCompositeSchedule")
        now = self.car.now_ms()
        return call_result.GetCompositeSchedule(
            status="Accepted", connector_id=connector_id,
            schedule_start=datetime.fromtimestamp(now / 1000, timezone.utc).isoformat(),
            charging_schedule={"duration": duration, "charging_rate_unit": "W",
                               "charging_schedule_period": [{"start_period": 0, "limit": -self.setpoint(now)}]})


def write_state(peer_state, car, path):
    doc = {"at_ms": car.now_ms(), "soc_percent": car.soc * 100, "power_w": car.power,
           "exported_wh": car.exported, "imported_wh": car.imported,
           "config": peer_state.get("config"), "received": peer_state.get("received"),
           "profiles": peer_state.get("profiles"), "connected": peer_state.get("connected", False),
           "meter_values": peer_state.get("meter_values", [])[-20:]}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


async def main_async(args):
    car = Car(args)
    state = {}
    current = {}

    async def report():
        while True:
            peer = current.get("peer")
            if peer is not None:
                peer.advance()
            if args.state:
                write_state(state, car, args.state)
            await asyncio.sleep(0.05)

    asyncio.get_running_loop().create_task(report())
    url = f"{args.url.rstrip('/')}/{args.id}"
    while True:
        try:
            async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:
                peer = Peer(args.id, ws, car, args, state)
                current["peer"] = peer
                state["connected"] = True
                print(f"ocpp peer {args.id}: connected to {url}", flush=True)
                await asyncio.gather(peer.start(), peer.run_session())
        except Exception as e:  # the connection dropped: reconnect, as a charger does
            state["connected"] = False
            print(f"ocpp peer {args.id}: session ended: {e!r}", flush=True)
            await asyncio.sleep(0.5)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--id", default="CP-PY")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--epoch-ms", type=float, default=time.time() * 1000)
    p.add_argument("--market-epoch-ms", type=float)
    p.add_argument("--capacity-wh", type=float, default=40_000)
    p.add_argument("--soc", type=float, default=50)
    p.add_argument("--reserve", type=float, default=10)
    p.add_argument("--max-power-w", type=float, default=10_000)
    p.add_argument("--voltage", type=float, default=230)
    p.add_argument("--state")
    args = p.parse_args()
    if args.market_epoch_ms is None:
        args.market_epoch_ms = args.epoch_ms
    asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
