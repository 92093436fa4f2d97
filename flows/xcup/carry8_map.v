// snnhw: UltraScale+ carry chains on CARRY8, the family's carry primitive.
// Yosys's own arith_map.v builds every $alu and $lcu from 4-bit CARRY4 slices, the 7-series
// primitive, which Vivado retargets on UltraScale+ and which doubles the carry cells on a path.
// These maps cover the same two cells with 8-bit CARRY8 slices (CARRY_TYPE SINGLE_CY8: one chain,
// CI_TOP unused); LUT_SIZE 6 only, as for xcup. Cells of at most 2 bits are left to LUTs.

(* techmap_celltype = "$lcu" *)
module _85_snnhw_carry8_lcu (P, G, CI, CO);
	parameter WIDTH = 2;
	(* force_downto *) input [WIDTH-1:0] P, G;
	input CI;
	(* force_downto *) output [WIDTH-1:0] CO;

	wire _TECHMAP_FAIL_ = WIDTH <= 2;

	localparam SLICES = (WIDTH + 7) / 8;
	localparam FULL = SLICES * 8;
	(* force_downto *) wire [FULL-1:0] s = {{(FULL - WIDTH){1'b0}}, P & ~G};
	(* force_downto *) wire [FULL-1:0] d = {{(FULL - WIDTH){1'b0}}, G};
	(* force_downto *) wire [FULL-1:0] c;
	assign CO = c[WIDTH-1:0];

	genvar k;
	generate for (k = 0; k < SLICES; k = k + 1) begin:slice
		CARRY8 #(.CARRY_TYPE("SINGLE_CY8")) carry8 (
			.CI(k == 0 ? CI : c[8*k - 1]), .CI_TOP(1'b0),
			.DI(d[8*k +: 8]), .S(s[8*k +: 8]), .CO(c[8*k +: 8]));
	end endgenerate
endmodule

(* techmap_celltype = "$alu" *)
module _85_snnhw_carry8_alu (A, B, CI, BI, X, Y, CO);
	parameter A_SIGNED = 0;
	parameter B_SIGNED = 0;
	parameter A_WIDTH = 1;
	parameter B_WIDTH = 1;
	parameter Y_WIDTH = 1;
	(* force_downto *) input [A_WIDTH-1:0] A;
	(* force_downto *) input [B_WIDTH-1:0] B;
	(* force_downto *) output [Y_WIDTH-1:0] X, Y;
	input CI, BI;
	(* force_downto *) output [Y_WIDTH-1:0] CO;

	wire _TECHMAP_FAIL_ = Y_WIDTH <= 2;

	(* force_downto *) wire [Y_WIDTH-1:0] a_ext, b_ext;
	\$pos #(.A_SIGNED(A_SIGNED), .A_WIDTH(A_WIDTH), .Y_WIDTH(Y_WIDTH)) a_conv (.A(A), .Y(a_ext));
	\$pos #(.A_SIGNED(B_SIGNED), .A_WIDTH(B_WIDTH), .Y_WIDTH(Y_WIDTH)) b_conv (.A(B), .Y(b_ext));
	(* force_downto *) wire [Y_WIDTH-1:0] b_in = BI ? ~b_ext : b_ext;
	(* force_downto *) wire [Y_WIDTH-1:0] p = a_ext ^ b_in;

	localparam SLICES = (Y_WIDTH + 7) / 8;
	localparam FULL = SLICES * 8;
	(* force_downto *) wire [FULL-1:0] s = {{(FULL - Y_WIDTH){1'b0}}, p};
	(* force_downto *) wire [FULL-1:0] d = {{(FULL - Y_WIDTH){1'b0}}, a_ext};
	(* force_downto *) wire [FULL-1:0] o, c;
	assign X = p;
	assign Y = o[Y_WIDTH-1:0];
	assign CO = c[Y_WIDTH-1:0];

	genvar k;
	generate for (k = 0; k < SLICES; k = k + 1) begin:slice
		CARRY8 #(.CARRY_TYPE("SINGLE_CY8")) carry8 (
			.CI(k == 0 ? CI : c[8*k - 1]), .CI_TOP(1'b0),
			.DI(d[8*k +: 8]), .S(s[8*k +: 8]), .O(o[8*k +: 8]), .CO(c[8*k +: 8]));
	end endgenerate
endmodule
