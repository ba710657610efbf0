//! The slice kernels against the direct-loop definitions (values) and central finite differences
//! (gradients), in f64.

use super::oracle::{assert_close, conv_ref, dot, fd, pool_ref, randn};
use super::*;
use rand::{rngs::StdRng, SeedableRng};

/// One geometry: (batch, in, h, w, out, kernel, stride, padding).
type Geom = (usize, usize, usize, usize, usize, usize, usize, usize);

/// Odd sizes, 1×1 inputs, stride 2, padding up to 3 with the kernel as large as the padded
/// input, and LeNet's conv2.
const GEOMS: [Geom; 9] = [
    // more images than one parallel task takes: partial gradients summed over tasks
    (9, 2, 5, 4, 3, 3, 1, 1),
    (2, 3, 7, 5, 4, 3, 1, 0),
    (1, 1, 1, 1, 2, 1, 1, 0),
    (2, 2, 1, 1, 3, 3, 1, 1),
    (3, 2, 9, 8, 2, 3, 2, 1),
    (1, 1, 5, 6, 2, 7, 2, 3),
    (2, 3, 6, 6, 2, 4, 2, 2),
    (2, 6, 14, 14, 4, 5, 1, 0),
    (1, 2, 3, 3, 1, 5, 1, 1),
];

#[test]
fn conv_forward_and_backward_match_reference_and_finite_differences() {
    let mut rng = StdRng::seed_from_u64(1);
    for &(b, c, h, w, o, k, s, p) in &GEOMS {
        let g = Conv2dGeom::new(b, c, h, w, o, k, s, p).expect("geometry fits");
        let x = randn(&mut rng, b * c * h * w);
        let wt = randn(&mut rng, o * c * k * k);
        let bias = randn(&mut rng, o);
        let y = conv2d_forward(&g, &x, &wt, &bias);
        assert_close(
            &format!("y {g:?}"),
            &y,
            &conv_ref(&g, &x, &wt, &bias),
            1e-12,
        );

        // Loss L = Σ r·y, so dL/dy = r.
        let r = randn(&mut rng, y.len());
        let (mut gw, mut gb, mut gx) = (vec![0.0; wt.len()], vec![0.0; o], vec![0.0; x.len()]);
        conv2d_backward(&g, &x, &wt, &r, &mut gw, &mut gb, Some(&mut gx));
        let tol = 1e-6;
        assert_close(
            "dx",
            &gx,
            &fd(&x, |x| dot(&r, &conv_ref(&g, x, &wt, &bias))),
            tol,
        );
        assert_close(
            "dw",
            &gw,
            &fd(&wt, |w| dot(&r, &conv_ref(&g, &x, w, &bias))),
            tol,
        );
        assert_close(
            "db",
            &gb,
            &fd(&bias, |b| dot(&r, &conv_ref(&g, &x, &wt, b))),
            tol,
        );
    }
}

#[test]
fn pools_match_reference_and_finite_differences() {
    let mut rng = StdRng::seed_from_u64(2);
    for &(planes, h, w, k, s, p) in &[
        (3, 7, 5, 2, 2, 0),
        (2, 1, 1, 1, 1, 0),
        (2, 6, 6, 3, 2, 1),
        (1, 5, 4, 2, 1, 1),
    ] {
        let g = Pool2dGeom::new(planes, h, w, k, s, p).expect("geometry fits");
        let x = randn(&mut rng, planes * h * w);
        let r = randn(&mut rng, planes * g.h_out * g.w_out);

        let (y, arg) = max_pool_forward(&g, &x);
        assert_close("max y", &y, &pool_ref(&g, &x, true), 0.0);
        let mut gx = vec![0.0; x.len()];
        max_pool_backward(&g, &arg, &r, &mut gx);
        assert_close(
            "max dx",
            &gx,
            &fd(&x, |x| dot(&r, &pool_ref(&g, x, true))),
            1e-6,
        );

        let y = avg_pool_forward(&g, &x);
        assert_close("avg y", &y, &pool_ref(&g, &x, false), 1e-12);
        let mut gx = vec![0.0; x.len()];
        avg_pool_backward(&g, &r, &mut gx);
        assert_close(
            "avg dx",
            &gx,
            &fd(&x, |x| dot(&r, &pool_ref(&g, x, false))),
            1e-6,
        );
    }
}
