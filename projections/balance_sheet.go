package projections

import (
	"fmt"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// BalanceSheetTitle is the official title of the 资产负债情况表 (T10).
const BalanceSheetTitle = "资产负债情况表"

var balanceSheetLayout = loadLayout("balance-sheet")

// Unit prices above which equipment is counted on its own line.
const (
	generalEquipmentThreshold events.Amount = 500_000_00   // 单价 50 万元
	specialEquipmentThreshold events.Amount = 1_000_000_00 // 单价 100 万元
)

// position is the balance of every line at one moment.
type position struct {
	value map[string]int64
	qty   map[string]int64
}

func newPosition() position {
	return position{value: map[string]int64{}, qty: map[string]int64{}}
}

func (p position) add(key string, value, qty int64) error {
	v, q := p.value[key], p.qty[key]
	if err := errorsJoin(add(&v, value), add(&q, qty)); err != nil {
		return err
	}
	p.value[key], p.qty[key] = v, q
	return nil
}

// assetKeys lists the layout lines an asset change counts on: its own, and
// the lines that contain it (vehicles are 通用设备; dear equipment has a line
// of its own too: by the event's unit price, or, without one, its average).
func assetKeys(b events.AssetChanged) []string {
	keys := []string{b.Class.String()}
	// A reversal's red entry has a negative amount and quantity: the line
	// is chosen on the item price, which keeps its sign.
	price := b.UnitPrice
	if price == 0 && b.Quantity != 0 {
		price = b.Amount / events.Amount(b.Quantity)
	}
	switch {
	case b.Class.Vehicle():
		keys = append(keys, "vehicles", "general_equipment")
	case b.Class == events.AssetGeneralEquipment && b.Quantity != 0 && price >= generalEquipmentThreshold:
		keys = append(keys, "general_equipment_over_500k")
	case b.Class == events.AssetSpecialEquipment && b.Quantity != 0 && price >= specialEquipmentThreshold:
		keys = append(keys, "special_equipment_over_1m")
	}
	return keys
}

// FoldBalanceSheet folds asset and liability changes into T10: the position
// at the start of the fiscal year (every change dated before it, whatever
// its fiscal year) and as of f's date. 固定资产 = 房屋 + 通用设备 + 专用设备 +
// 其他固定资产; 资产合计 = 流动资产 + 固定资产 − 累计折旧 + 长期投资 + 在建工程 +
// 无形资产 − 累计摊销 + 其他资产; 净资产 = 资产合计 − 负债合计.
func FoldBalanceSheet(evs Events, f Filter, _ *events.Catalog) (*Statement, error) {
	start := events.NewDate(f.FiscalYear, time.January, 1)
	opening, closing := newPosition(), newPosition()
	for e := range effective(evs) {
		if e.Date > f.asOf() || (f.Ledger != "" && e.Ledger != f.Ledger) || (f.Unit != "" && e.Unit != f.Unit) {
			continue
		}
		var keys []string
		var value, qty int64
		switch b := e.Body.(type) {
		case events.AssetChanged:
			keys, value, qty = assetKeys(b), int64(b.Amount), b.Quantity
			if b.Decrease {
				value, qty = -value, -qty
			}
		case events.LiabilityChanged:
			keys, value = []string{"total_liabilities"}, int64(b.Amount)
			if b.Decrease {
				value = -value
			}
		default:
			continue
		}
		for _, k := range keys {
			if err := closing.add(k, value, qty); err != nil {
				return nil, fmt.Errorf("fold %s: event %s: %w", BalanceSheetTitle, e.ID, err)
			}
			if e.Date < start {
				if err := opening.add(k, value, qty); err != nil {
					return nil, fmt.Errorf("fold %s: event %s: %w", BalanceSheetTitle, e.ID, err)
				}
			}
		}
	}
	for _, p := range []position{opening, closing} {
		if err := p.totals(); err != nil {
			return nil, fmt.Errorf("fold %s: %w", BalanceSheetTitle, err)
		}
	}
	st := &Statement{Title: BalanceSheetTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: []string{"年初数", "年末数"}}
	for _, l := range balanceSheetLayout {
		r := Row{Key: l.key, Name: l.name, Amounts: amounts(opening.value[l.key], closing.value[l.key])}
		if l.side == "qty" {
			r.Quantities = []int64{opening.qty[l.key], closing.qty[l.key]}
		}
		st.Rows = append(st.Rows, r)
	}
	return st, nil
}

// totals fills in the lines that are sums of others.
func (p position) totals() error {
	v := p.value
	var fixed, assets int64
	for _, k := range []string{"buildings", "general_equipment", "special_equipment", "other_fixed"} {
		if err := add(&fixed, v[k]); err != nil {
			return err
		}
	}
	v["fixed"] = fixed
	for k, sign := range map[string]int64{
		"current": 1, "fixed": 1, "depreciation": -1, "long_term_equity": 1, "long_term_bonds": 1,
		"construction_in_progress": 1, "intangible": 1, "amortization": -1, "other": 1,
	} {
		if err := add(&assets, sign*v[k]); err != nil {
			return err
		}
	}
	v["total_assets"] = assets
	net := assets
	if err := add(&net, -v["total_liabilities"]); err != nil {
		return err
	}
	v["net_assets"] = net
	return nil
}
