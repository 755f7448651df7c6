//! `traffic.rate`: a number or a shape table, checked and built into a [`Shape`].

use super::checks::{TrafficConfigError, duration, fail, non_negative, positive_duration};
use crate::config::raw::traffic::{RateConfig, ShapeConfig};
use crate::traffic::Shape;
use std::sync::Arc;

/// Checks a rate config (at dotted `key`) and builds its shape.
pub(super) fn build_shape(cfg: &RateConfig, key: &str) -> Result<Shape, TrafficConfigError> {
    let k = |name: &str| format!("{key}.{name}");
    let rate = |x: f64, name: &str| non_negative(x, &k(name), "a rate in requests per second");
    let shape = match cfg {
        RateConfig::Number(r) => Shape::Constant(non_negative(*r, key, "a rate in requests per second")?),
        RateConfig::Shape(s) => match s {
            ShapeConfig::Constant(c) => Shape::Constant(rate(c.rate, "rate")?),
            ShapeConfig::Steps(p) | ShapeConfig::Piecewise(p) => {
                let key = k("points");
                if p.points.is_empty() {
                    return fail(
                        &key,
                        "found an empty list, expected [time, rate] pairs like [\"0s\", 50.0]".into(),
                    );
                }
                let mut pts = Vec::with_capacity(p.points.len());
                for (i, (t, r)) in p.points.iter().enumerate() {
                    let ik = format!("{key}[{i}]");
                    let t = duration(t, &ik)?;
                    let r = non_negative(*r, &ik, "a rate in requests per second")?;
                    if let Some(&(prev, _)) = pts.last()
                        && t <= prev
                    {
                        return fail(
                            &ik,
                            format!("found time {t} s, expected a time after the previous point's {prev} s"),
                        );
                    }
                    pts.push((t, r));
                }
                if matches!(s, ShapeConfig::Steps(_)) {
                    Shape::Steps(pts.into())
                } else {
                    Shape::Piecewise(pts.into())
                }
            }
            ShapeConfig::Ramp(r) => {
                let start = duration(&r.start, &k("start"))?;
                let end = duration(&r.end, &k("end"))?;
                if end < start {
                    return fail(
                        &k("end"),
                        format!("found \"{}\", expected a time no earlier than start \"{}\"", r.end, r.start),
                    );
                }
                Shape::Ramp { from: rate(r.from, "from")?, to: rate(r.to, "to")?, start, end }
            }
            ShapeConfig::Daily(d) => {
                let trough = rate(d.trough, "trough")?;
                let peak = rate(d.peak, "peak")?;
                if peak < trough {
                    return fail(
                        &k("peak"),
                        format!("found {peak}, expected at least the trough ({trough})"),
                    );
                }
                if !(d.peak_hour.is_finite() && (0.0..24.0).contains(&d.peak_hour)) {
                    return fail(
                        &k("peak_hour"),
                        format!("found {}, expected an hour from 0 to below 24", d.peak_hour),
                    );
                }
                let weekend_factor = non_negative(d.weekend_factor, &k("weekend_factor"), "a factor")?;
                Shape::Daily { trough, peak, peak_hour: d.peak_hour, weekend_factor }
            }
            ShapeConfig::Sine(s) => Shape::Sine {
                mean: rate(s.mean, "mean")?,
                amplitude: non_negative(s.amplitude, &k("amplitude"), "an amplitude")?,
                period: positive_duration(&s.period, &k("period"))?,
                phase: duration(&s.phase, &k("phase"))?,
            },
            ShapeConfig::Spike(s) => {
                let length = duration(&s.length, &k("length"))?;
                let rise = duration(&s.rise, &k("rise"))?;
                if rise > length {
                    return fail(
                        &k("rise"),
                        format!("found \"{}\", expected at most the length \"{}\"", s.rise, s.length),
                    );
                }
                Shape::Spike {
                    base: Arc::new(build_shape(&s.base, &k("base"))?),
                    start: duration(&s.start, &k("start"))?,
                    length,
                    multiplier: non_negative(s.multiplier, &k("multiplier"), "a factor")?,
                    rise,
                    fall: duration(&s.fall, &k("fall"))?,
                }
            }
            ShapeConfig::Sum(s) => {
                if s.of.is_empty() {
                    return fail(&k("of"), "found an empty list, expected one or more shapes".into());
                }
                let parts: Result<Vec<Shape>, _> =
                    s.of.iter().enumerate().map(|(i, c)| build_shape(c, &format!("{key}.of[{i}]"))).collect();
                Shape::Sum(parts?.into())
            }
            ShapeConfig::Scale(s) => Shape::Scale {
                factor: non_negative(s.factor, &k("factor"), "a factor")?,
                of: Arc::new(build_shape(&s.base, &k("base"))?),
            },
        },
    };
    Ok(shape)
}
