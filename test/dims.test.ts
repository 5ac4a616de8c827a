import { describe, expect, it } from "vitest";
import { Dim, elements, MAX_DIM_TEXT } from "../src/core/dims.ts";

const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => Dim.sym(n));

describe("symbolic dimensions", () => {
  it("expand small products to one canonical text", () => {
    expect(a.add(1).mul(a.sub(1)).equals(a.mul(a).sub(1))).toBe(true);
    expect(a.add(b).mul(2).toString()).toBe("2*a + 2*b");
    expect(elements([a, b, Dim.of(3)]).equals(b.mul(a).mul(3))).toBe(true);
    expect(a.mul(b).add(a.mul(b)).divBy(a)?.toString()).toBe("2*b");
  });

  it("keep opaque atoms whole (a floor of a product is one factor)", () => {
    const f = a.mul(b).sub(3).floorDiv(2);
    expect(f.toString()).toBe("floor((a*b - 3)/2)");
    expect(f.mul(c).divBy(c)?.equals(f)).toBe(true);
    expect(f.mul(c).divBy(a)).toBeUndefined();
  });

  it("stop expanding past the bound, so text grows with the factors, not their product", () => {
    const s = a.add(b).add(c).add(d);
    let p = Dim.of(1);
    for (let i = 0; i < 300; i++) p = p.mul(s);
    // (a+b+c+d)^300 expanded has millions of terms; kept whole it is a few characters per factor
    expect(p.toString().length).toBeLessThan(MAX_DIM_TEXT + 300 * (s.toString().length + 8));
    // the product is the same whichever side it is built from
    let q = Dim.of(1);
    for (let i = 0; i < 300; i++) q = s.mul(q);
    expect(q.equals(p)).toBe(true);
  });
});
