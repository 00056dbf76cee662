/// The allowed range of one parameter. Its text is what errors, docs and Python show.
public enum ParameterRule: Sendable, Equatable {
    case any
    case greaterThan(Double)
    case atLeast(Double)
    case closed(Double, Double)      // a ≤ x ≤ b
    case halfOpen(Double, Double)    // a ≤ x < b
    case positiveWhole               // x > 0 and x a whole number
    case bool                        // 0 or 1
    case choice([String])            // index into the names

    func admits(_ x: Double) -> Bool {
        switch self {
        case .any: return true
        case .greaterThan(let a): return x > a
        case .atLeast(let a): return x >= a
        case .closed(let a, let b): return a <= x && x <= b
        case .halfOpen(let a, let b): return a <= x && x < b
        case .positiveWhole: return x >= 1 && x == x.rounded() && x <= 9.0e15
        case .bool: return x == 0 || x == 1
        case .choice(let names): return x >= 0 && x == x.rounded() && Int(x) < names.count
        }
    }

    /// The rule as text, with `name` standing for the value, e.g. "tau_m > 0".
    func text(_ name: String) -> String {
        switch self {
        case .any: return "\(name) any finite value"
        case .greaterThan(let a): return "\(name) > \(fmt(a))"
        case .atLeast(let a): return "\(name) ≥ \(fmt(a))"
        case .closed(let a, let b): return "\(fmt(a)) ≤ \(name) ≤ \(fmt(b))"
        case .halfOpen(let a, let b): return "\(fmt(a)) ≤ \(name) < \(fmt(b))"
        case .positiveWhole: return "\(name) a whole number ≥ 1"
        case .bool: return "\(name) 0 (false) or 1 (true)"
        case .choice(let names): return "\(name) one of " + names.map { "\"\($0)\"" }.joined(separator: ", ")
        }
    }
}

/// One row of a model's parameter table: the single source of truth for validation,
/// get/set by name, the C catalogue, Python docstrings and the README model table.
public struct ParameterSpec: Sendable {
    public let name: String
    public let unit: String
    public let defaultValue: Double
    public let rule: ParameterRule
    /// Whether ±infinity is a legal value (e.g. a cutoff of +inf means "never").
    public let allowsInfinity: Bool
    public let doc: String

    public init(_ name: String, unit: String = "", _ defaultValue: Double, _ rule: ParameterRule,
                infinite: Bool = false, doc: String) {
        self.name = name
        self.unit = unit
        self.defaultValue = defaultValue
        self.rule = rule
        self.allowsInfinity = infinite
        self.doc = doc
    }

    public var kind: String {
        switch rule {
        case .bool: return "bool"
        case .choice: return "choice"
        default: return "real"
        }
    }

    public var ruleText: String { rule.text(name) }

    /// Checks `x` against this row alone; `owner` names the model in the message.
    func check(_ x: Double, owner: String) throws(EpropError) {
        if x.isNaN || (x.isInfinite && !allowsInfinity) {
            let rule = self.rule == .any ? "" : " and \(ruleText)"
            throw .badProperty("\(owner) parameter \(name): must be finite\(rule), got \(fmt(x))")
        }
        if !rule.admits(x) {
            let unitText = unit.isEmpty ? "" : " (\(unit))"
            throw .badProperty("\(owner) parameter \(name)\(unitText): \(ruleText) required, got \(fmt(x))")
        }
    }
}

/// A rule spanning several parameters, e.g. V_th ≥ V_min; returns the message if violated.
public struct CrossRule: Sendable {
    public let text: String
    let violated: @Sendable (ParameterSet) -> Bool
    public init(_ text: String, violated: @escaping @Sendable (ParameterSet) -> Bool) {
        self.text = text
        self.violated = violated
    }
}

/// The parameter table of one model: rows plus cross rules.
public struct ParameterTable: Sendable {
    public let owner: String
    public let specs: [ParameterSpec]
    public let crossRules: [CrossRule]

    public func index(of name: String) -> Int? { specs.firstIndex { $0.name == name } }

    public func defaults() -> ParameterSet {
        ParameterSet(table: self, values: specs.map { $0.defaultValue })
    }
}

/// Values of one model's parameters, set transactionally: `setting` validates a copy and
/// returns it only if every row and cross rule passes.
public struct ParameterSet: Sendable {
    public let table: ParameterTable
    public private(set) var values: [Double]

    init(table: ParameterTable, values: [Double]) {
        self.table = table
        self.values = values
    }

    public subscript(_ name: String) -> Double {
        guard let i = table.index(of: name) else { preconditionFailure("no parameter \(name) in \(table.owner)") }
        return values[i]
    }

    public func has(_ name: String) -> Bool { table.index(of: name) != nil }

    /// Returns a copy with `changes` applied, or throws naming the first violated rule.
    public func setting(_ changes: [(String, Double)]) throws(EpropError) -> ParameterSet {
        var copy = self
        for (name, value) in changes {
            guard let i = table.index(of: name) else {
                throw .unknown("\(table.owner) has no parameter \(name); parameters are "
                    + table.specs.map(\.name).joined(separator: ", "))
            }
            try table.specs[i].check(value, owner: table.owner)
            copy.values[i] = value
        }
        for rule in table.crossRules where rule.violated(copy) {
            throw .badProperty("\(table.owner): \(rule.text) required, got "
                + describe(copy, rule.text))
        }
        return copy
    }

    /// The values of the parameters a cross rule's text mentions, e.g. "V_th=-55, V_min=-60".
    private func describe(_ set: ParameterSet, _ text: String) -> String {
        var parts: [String] = []
        for (i, spec) in table.specs.enumerated() where mentions(text, spec.name) {
            parts.append("\(spec.name)=\(fmt(set.values[i]))")
        }
        return parts.joined(separator: ", ")
    }

    private func mentions(_ text: String, _ name: String) -> Bool {
        // Whole-word match on the parameter name, so that V_th does not match V_th_adapt.
        let t = Array(text.utf8), n = Array(name.utf8)
        guard n.count <= t.count else { return false }
        func isWord(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        var i = 0
        while i + n.count <= t.count {
            if Array(t[i..<(i + n.count)]) == n
                && (i == 0 || !isWord(t[i - 1]))
                && (i + n.count == t.count || !isWord(t[i + n.count])) { return true }
            i += 1
        }
        return false
    }

    /// Name of a choice parameter's current value.
    public func choiceName(_ name: String) -> String? {
        guard let i = table.index(of: name), case .choice(let names) = table.specs[i].rule else { return nil }
        return names[Int(values[i])]
    }
}
