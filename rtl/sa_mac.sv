// sa_mac: the arithmetic unit of one processing element, on its own.
//
//   prod_o = a_i * b_i          (sa_arith_pkg::mac_mul)
//   acc_o  = acc_i + a_i * b_i  (sa_arith_pkg::pe_mac: the product rounded,
//                                then the sum rounded, as acc_i + prod_o)
//
// Purely combinational. The array (sa_pe_array) computes pe_mac; this module
// only exists so that the arithmetic can be tested bit-exactly against the
// golden model in isolation (tests/rtl/test_mac.cpp).
module sa_mac #(
  parameter int unsigned Datapath = sa_pkg::DP_INT8,
  localparam int unsigned InW     = sa_pkg::op_width(Datapath)
) (
  input  logic [InW-1:0]           a_i,
  input  logic [InW-1:0]           b_i,
  input  logic [sa_pkg::ACC_W-1:0] acc_i,
  output logic [sa_pkg::ACC_W-1:0] prod_o,
  output logic [sa_pkg::ACC_W-1:0] acc_o
);

  if ((Datapath != sa_pkg::DP_INT8) && (Datapath != sa_pkg::DP_BF16)) begin : gen_bad_datapath
    $error("sa_mac: Datapath must be sa_pkg::DP_INT8 or sa_pkg::DP_BF16");
  end

  logic [sa_pkg::ACC_W-1:0] prod;

  always_comb begin
    prod   = sa_arith_pkg::mac_mul(Datapath, 16'(a_i), 16'(b_i));
    prod_o = prod;
    acc_o  = sa_arith_pkg::pe_mac(Datapath, 16'(a_i), 16'(b_i), acc_i);
  end

endmodule
