import EpropCore

// Library, version and model catalogue functions of eprop.h.

let libraryVersion = "0.1.0"

/// eprop_abi_version → the ABI of this build.
@_cdecl("eprop_abi_version")
public func eprop_abi_version() -> Int32 { 1 }

@_cdecl("eprop_version")
public func eprop_version() -> UnsafePointer<CChar> { interned(libraryVersion) }

@_cdecl("eprop_last_error")
public func eprop_last_error() -> UnsafePointer<CChar> { lastError() }

@_cdecl("eprop_status_string")
public func eprop_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    interned(EpropStatus(rawValue: status)?.meaning ?? "unknown status code")
}

/// Calls ModelCatalog.names.
@_cdecl("eprop_model_count")
public func eprop_model_count(_ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        try output(count, "count").pointee = Int64(ModelCatalog.names.count)
    }
}

@_cdecl("eprop_model_name")
public func eprop_model_name(_ index: Int64, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let out = try output(name, "name")
        guard index >= 0, index < Int64(ModelCatalog.names.count) else {
            throw EpropError(.invalidArgument, "index: must be in 0..<\(ModelCatalog.names.count), got \(index)")
        }
        out.pointee = interned(ModelCatalog.names[Int(index)])
    }
}

/// Calls ModelCatalog.table(model).specs.count.
@_cdecl("eprop_model_parameter_count")
public func eprop_model_parameter_count(_ model: UnsafePointer<CChar>?, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let table = try ModelCatalog.table(try string(model, "model"))
        try output(count, "count").pointee = Int64(table.specs.count)
    }
}

/// Calls ModelCatalog.table(model).specs[index].
@_cdecl("eprop_model_parameter_info")
public func eprop_model_parameter_info(
    _ model: UnsafePointer<CChar>?, _ index: Int64,
    _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ unit: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
    _ kind: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ defaultValue: UnsafeMutablePointer<Double>?,
    _ rule: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ doc: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> Int32 {
    withStatus { () throws(EpropError) in
        let modelName = try string(model, "model")
        let table = try ModelCatalog.table(modelName)
        guard index >= 0, index < Int64(table.specs.count) else {
            throw EpropError(.invalidArgument, "index: \(modelName) has \(table.specs.count) parameters, got \(index)")
        }
        let spec = table.specs[Int(index)]
        name?.pointee = interned(spec.name)
        unit?.pointee = interned(spec.unit)
        kind?.pointee = interned(spec.kind)
        defaultValue?.pointee = spec.defaultValue
        rule?.pointee = interned(spec.ruleText)
        doc?.pointee = interned(spec.doc)
    }
}

/// Calls ModelCatalog.recordables(model).
@_cdecl("eprop_model_recordables")
public func eprop_model_recordables(_ model: UnsafePointer<CChar>?, _ csv: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    withStatus { () throws(EpropError) in
        let out = try output(csv, "csv")
        out.pointee = interned(try ModelCatalog.recordables(try string(model, "model")).joined(separator: ","))
    }
}
