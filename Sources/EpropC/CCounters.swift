import EpropCore

// Work counters and the energy estimate (docs/energy.md).

/// Reads WorkCounter.allCases.count.
@_cdecl("eprop_counter_count")
public func eprop_counter_count(_ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        try output(count, "count").pointee = Int64(WorkCounter.allCases.count)
    }
}

/// Reads WorkCounter(rawValue: index).name and .doc.
@_cdecl("eprop_counter_info")
public func eprop_counter_info(_ index: Int64, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                               _ doc: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let counter = try counterIndex(index, "index")
        name?.pointee = interned(counter.name)
        doc?.pointee = interned(counter.doc)
    }
}

/// Calls Network.counterValues().
@_cdecl("eprop_get_counters")
public func eprop_get_counters(_ network: OpaquePointer?, _ values: UnsafeMutablePointer<Int64>?,
                               _ capacityValue: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        try capacity(capacityValue, atLeast: WorkCounter.allCases.count, "capacity")
        let out = try outputBuffer(values, capacityValue, "values", countName: "capacity")
        for (i, x) in net.counterValues().enumerated() { out[i] = x }
    }
}

/// Calls Network.resetCounters().
@_cdecl("eprop_reset_counters")
public func eprop_reset_counters(_ network: OpaquePointer?) -> Int32 {
    withStatus { () throws(EpropError) in
        try handle(network).resetCounters()
    }
}

/// Reads EnergyTable.entries.count.
@_cdecl("eprop_energy_entry_count")
public func eprop_energy_entry_count(_ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        try output(count, "count").pointee = Int64(EnergyTable.entries.count)
    }
}

/// Reads EnergyTable.entries[index].
@_cdecl("eprop_energy_entry_info")
public func eprop_energy_entry_info(_ index: Int64, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                    _ defaultPicojoules: UnsafeMutablePointer<Double>?,
                                    _ doc: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let entries = EnergyTable.entries
        guard index >= 0, index < Int64(entries.count) else {
            throw EpropError(.invalidArgument, "index: must be in 0..<\(entries.count) (energy table entries), got \(index)")
        }
        let entry = entries[Int(index)]
        name?.pointee = interned(entry.name)
        defaultPicojoules?.pointee = entry.defaultPicojoules
        doc?.pointee = interned(entry.doc)
    }
}

/// Reads WorkCounter.operations.
@_cdecl("eprop_energy_operations")
public func eprop_energy_operations(_ counter: Int64, _ operations: UnsafeMutablePointer<Double>?,
                                    _ capacityValue: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let c = try counterIndex(counter, "counter")
        try capacity(capacityValue, atLeast: EnergyTable.entries.count, "capacity")
        let out = try outputBuffer(operations, capacityValue, "operations", countName: "capacity")
        for (i, x) in c.operations.enumerated() { out[i] = x }
    }
}

/// Calls EnergyTable.set on the network's table.
@_cdecl("eprop_energy_table_set")
public func eprop_energy_table_set(_ network: OpaquePointer?, _ namesPointer: UnsafePointer<UnsafePointer<CChar>?>?,
                                   _ values: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let keys = try names(namesPointer, count, "names")
        try net.energyTable.set(Array(zip(keys, try buffer(values, count, "values_pj"))))
    }
}

/// Calls EnergyTable.value on the network's table.
@_cdecl("eprop_energy_table_get")
public func eprop_energy_table_get(_ network: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                   _ value: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let key = try string(name, "name")
        let out = try output(value, "value_pj")
        out.pointee = try net.energyTable.value(key)
    }
}

/// Replaces the network's table with EnergyTable() (the defaults).
@_cdecl("eprop_energy_table_reset")
public func eprop_energy_table_reset(_ network: OpaquePointer?) -> Int32 {
    withStatus { () throws(EpropError) in
        try handle(network).energyTable = EnergyTable()
    }
}

/// Calls Network.energyEstimate().
@_cdecl("eprop_energy_estimate")
public func eprop_energy_estimate(_ network: OpaquePointer?, _ total: UnsafeMutablePointer<Double>?,
                                  _ perCounter: UnsafeMutablePointer<Double>?, _ counterCapacity: Int64,
                                  _ perEntry: UnsafeMutablePointer<Double>?, _ entryCapacity: Int64) -> Int32 {
    withStatus { () throws(EpropError) in
        let net = try handle(network)
        let out = try output(total, "total_joules")
        if counterCapacity != 0 {
            try capacity(counterCapacity, atLeast: WorkCounter.allCases.count, "counter_capacity")
        }
        if entryCapacity != 0 {
            try capacity(entryCapacity, atLeast: EnergyTable.entries.count, "entry_capacity")
        }
        let counters = try outputBuffer(perCounter, counterCapacity, "per_counter_joules", countName: "counter_capacity")
        let entries = try outputBuffer(perEntry, entryCapacity, "per_entry_joules", countName: "entry_capacity")
        let estimate = net.energyEstimate()
        out.pointee = estimate.total
        if counters.count > 0 { for (i, x) in estimate.perCounter.enumerated() { counters[i] = x } }
        if entries.count > 0 { for (i, x) in estimate.perEntry.enumerated() { entries[i] = x } }
    }
}

private func counterIndex(_ index: Int64, _ name: String) throws(EpropError) -> WorkCounter {
    let n = WorkCounter.allCases.count
    guard index >= 0, index < Int64(n), let c = WorkCounter(rawValue: Int(index)) else {
        throw EpropError(.invalidArgument, "\(name): must be in 0..<\(n) (work counters), got \(index)")
    }
    return c
}
